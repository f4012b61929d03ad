// Graceful stop for the long-running commands (`gaw <module>`, `gaw bridge`): the first SIGINT or
// SIGTERM resolves `stopped` so the caller can drain; a second one exits the process at once.
// With --exit-with-parent (on by default under npm and npx), the death of the process that started
// gaw counts as a SIGTERM: npm forwards SIGTERM to the shell it runs gaw in, the shell dies and
// does not pass it on, and gaw would otherwise keep serving as an orphan. Knows nothing of servers.
import type { Logger } from '../log.js';
import { readBoolean } from './options.js';
import type { Argv, Env } from './options.js';
import { exitCodes } from './options.js';

export const lifetimeOptions = {
  'exit-with-parent': {
    type: 'boolean',
    describe:
      'stop (as on SIGTERM) when the process that started gaw exits; default: on under npm and npx, which do not pass SIGTERM through their shell; --no-exit-with-parent turns it off',
  },
} as const;

export interface StopSignal {
  /** Resolves with the first signal's name, or 'parent exited'. */
  readonly stopped: Promise<string>;
  /** Removes the handlers and stops watching the parent. */
  dispose(): void;
}

export interface StopSignalOptions {
  /** Stop when the parent process exits (checked every `parentCheckMs`). */
  isWatchingParent?: boolean;
  parentCheckMs?: number;
}

/** --exit-with-parent as given, otherwise on when npm or npx started the process. */
export function isWatchingParent(argv: Argv, env: Env): boolean {
  if (argv['exit-with-parent'] !== undefined) return readBoolean(argv, 'exit-with-parent');
  return env.npm_lifecycle_event !== undefined || env.npm_command !== undefined;
}

export function waitForStopSignal(logger: Logger, options: StopSignalOptions = {}): StopSignal {
  let isStopping = false;
  let resolveStop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    resolveStop = resolve;
  });
  const stop = (signal: string): void => {
    if (isStopping) {
      logger.warn({ signal }, 'second signal: exiting now without waiting for in-flight calls');
      process.exit(exitCodes.failure);
    }
    isStopping = true;
    resolveStop(signal);
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // No portable "parent died" signal exists in Node: when the parent exits, the process is
  // re-parented (to init or a subreaper) and its ppid changes. A parent of 1 cannot change.
  const parentPid = process.ppid;
  const timer =
    options.isWatchingParent === true && parentPid > 1
      ? setInterval(() => {
          if (process.ppid === parentPid || isStopping) return;
          clearInterval(timer);
          logger.warn({ parentPid }, 'the process that started gaw exited: stopping');
          stop('parent exited');
        }, options.parentCheckMs ?? 500)
      : undefined;
  timer?.unref();
  return {
    stopped,
    dispose: () => {
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
