// Processes of the benchmark: the parent forks each server and each load generator as its own
// compiled script, and they talk over the IPC channel (ready + port, requests, results). Only
// process plumbing lives here; what the children do is in server-*.ts and load.ts.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A message on the IPC channel: a type and whatever the type carries. */
export interface IpcMessage {
  type: string;
  [key: string]: unknown;
}

export interface Child {
  /** The first `ready` message (servers send their ports in it). */
  readonly ready: Promise<IpcMessage>;
  /** Sends `message` and resolves with the next message whose type is `replyType`. */
  request(message: IpcMessage, replyType: string, timeoutMs?: number): Promise<IpcMessage>;
  /** Resolves with the first message of `type`. */
  next(type: string, timeoutMs?: number): Promise<IpcMessage>;
  /** Asks the child to exit, then kills it if it has not after a short grace. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Forks `dist/bench/<script>.js` with `args` as one JSON argument. */
export function startChild(script: string, args: object, options: { execArgv?: string[] } = {}): Child {
  const path = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
  const child = fork(path, [JSON.stringify(args)], {
    execArgv: options.execArgv ?? [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: process.env,
  });
  let exited: string | undefined;
  const waiters = new Set<{ type: string; resolve: (m: IpcMessage) => void; reject: (e: Error) => void }>();
  child.on('message', (message: IpcMessage) => {
    for (const waiter of waiters) {
      if (waiter.type === message.type) {
        waiters.delete(waiter);
        waiter.resolve(message);
        return;
      }
    }
  });
  child.on('exit', (code, signal) => {
    exited = `${script} exited (code ${code}, signal ${signal})`;
    for (const waiter of waiters) waiter.reject(new Error(exited));
    waiters.clear();
  });
  const next = (type: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<IpcMessage> => {
    if (exited !== undefined) return Promise.reject(new Error(exited));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${script}: no ${type} message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: IpcMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      waiters.add(waiter);
    });
  };
  const ready = next('ready');
  ready.catch(() => {});
  return {
    ready,
    next,
    request(message, replyType, timeoutMs) {
      const reply = next(replyType, timeoutMs);
      child.send(message);
      return reply;
    },
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** In a child: the JSON argument the parent passed. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** In a child: sends a message to the parent. */
export function tell(message: IpcMessage): void {
  process.send?.(message);
}

/** In a child: handles the parent's requests; `stop` runs `onStop` and then exits. */
export function listenToParent(
  handlers: Record<string, (message: IpcMessage) => unknown>,
  onStop: () => Promise<void> | void = () => {},
): void {
  process.on('message', (message: IpcMessage) => {
    if (message.type === 'stop') {
      Promise.resolve(onStop()).finally(() => process.exit(0));
      return;
    }
    const handler = handlers[message.type];
    if (handler === undefined) return;
    Promise.resolve(handler(message)).catch((err: unknown) => {
      tell({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    });
  });
  // The parent going away (Ctrl-C, a crash) must not leave servers behind.
  process.on('disconnect', () => process.exit(0));
}

/** The secret every gaw process of one run shares (the parent sets it; never printed). */
export function benchSecret(): string {
  const secret = process.env.GAW_BENCH_SECRET;
  if (secret === undefined) throw new Error('GAW_BENCH_SECRET is not set: start the benchmarks with `npm run bench`');
  return secret;
}
