// Graceful stop for the long-running commands (`gaw <module>`, `gaw bridge`): the first SIGINT or
// SIGTERM resolves `stopped` so the caller can drain; a second one exits the process at once.
// Knows nothing of servers; the caller decides what draining means.
import type { Logger } from '../log.js';
import { exitCodes } from './options.js';

export interface StopSignal {
  /** Resolves with the first signal's name. */
  readonly stopped: Promise<string>;
  /** Removes the handlers. */
  dispose(): void;
}

export function waitForStopSignal(logger: Logger): StopSignal {
  let isStopping = false;
  let resolveStop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (isStopping) {
      logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight calls');
      process.exit(exitCodes.failure);
    }
    isStopping = true;
    resolveStop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
