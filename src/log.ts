// The logger shape library code accepts: the subset of pino's API gaw calls. Library code is
// silent unless given a logger; only bin/ and src/cli create a real pino instance.

export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** A pino-compatible logger. A pino instance satisfies it as it is. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child?(bindings: Record<string, unknown>): Logger;
  /** pino's level check; when absent every level counts as enabled. */
  isLevelEnabled?(level: string): boolean;
}

const noop: LogFn = () => {};

/** Discards everything. The default for every library object. */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
};
