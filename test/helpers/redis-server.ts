// A real redis-server per test file: a unix socket in a temp dir (no TCP port), no persistence,
// killed by pid. `stop()`, `kill('SIGSTOP')` and `restart()` let chaos tests take it away.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './cleanup.js';
import { findEngine } from './engines.js';

/** `{ skip }` for node:test when redis-server is missing locally (throws in CI). */
export const redisEngine = findEngine('redis-server', 'redis-server');

export interface RedisServer {
  /** The unix socket path. */
  readonly socketPath: string;
  /** A `redis+unix://` URL for the socket (the form gaw's `registry` option takes). */
  readonly url: string;
  /** The running server's pid (changes after `restart()`). */
  readonly pid: number;
  /** Sends a signal to the running server (SIGSTOP / SIGCONT / SIGKILL). */
  kill(signal: NodeJS.Signals): void;
  /** SIGKILLs the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts a fresh, empty server on the same socket (after `stop()`). */
  restart(): Promise<void>;
}

async function waitForSocket(path: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited before listening (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    const isUp = await new Promise<boolean>((resolve) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.end('PING\r\n');
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (isUp) return;
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${path} within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts redis-server on a unix socket in a fresh temp dir; it is killed after the test file. */
export async function startRedis(extraArgs: readonly string[] = []): Promise<RedisServer> {
  const { engine } = redisEngine;
  if (engine === undefined) throw new Error(redisEngine.skip);
  const dir = mkdtempSync(join(tmpdir(), 'gaw-redis-'));
  const socketPath = join(dir, 'redis.sock');
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = spawn(
      engine.path,
      [
        '--port',
        '0',
        '--unixsocket',
        socketPath,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitForSocket(socketPath, child, 10_000);
  };
  await launch();
  const stop = async (): Promise<void> => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited(child);
  };
  track(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    socketPath,
    url: `redis+unix://${socketPath}`,
    get pid() {
      return child.pid ?? -1;
    },
    kill: (signal) => {
      child.kill(signal);
    },
    stop,
    restart: async () => {
      await stop();
      rmSync(socketPath, { force: true });
      await launch();
    },
  };
}
