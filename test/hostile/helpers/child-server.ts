// A GawServer in a child process, so a test can SIGKILL it mid-load and start it again on the same
// port. Every call is written to a count file synchronously when its handler starts, so executions
// survive the kill and "ran at most once" can be checked across both lives. The parent side is
// ChildVictim; run directly without `--hostile-child` this file does nothing.
import { appendFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { GawServer, entrypoint } from '../../../src/server/index.js';
import { forkListening } from '../../helpers/server-fixtures.js';

const childFlag = '--hostile-child';

/** `counter.idem(key)` is safe to repeat; `counter.once(key)` must run at most once per key. */
export class CounterService {
  static serviceName = 'counter';
  static countFile = '';

  @entrypoint async idem(key: string): Promise<string> {
    appendFileSync(CounterService.countFile, `idem ${key}\n`);
    await delay(2);
    return key;
  }

  @entrypoint async once(key: string): Promise<string> {
    appendFileSync(CounterService.countFile, `once ${key}\n`);
    await delay(2);
    return key;
  }
}

/** Executions per `method key`, read from the count file. */
export function readCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** The parent's handle on a child server. */
export class ChildVictim {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess, port: number, exited: Promise<void>) {
    this.child = child;
    this.port = port;
    this.exited = exited;
  }

  /** Starts a child on `port` (0: a free one) with the secret passed in its environment. */
  static async start(port: number, countFile: string, secret: string): Promise<ChildVictim> {
    const { child, port: bound, exited } = await forkListening(fileURLToPath(import.meta.url), [childFlag, String(port), countFile],
      { ...process.env, GAW_HOSTILE_SECRET: secret });
    return new ChildVictim(child, bound, exited);
  }

  /** SIGKILL: no CLOSE, no FIN from gaw; the kernel resets the connections. */
  kill(): Promise<void> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

}

if (process.argv[2] === childFlag && process.send) {
  CounterService.countFile = process.argv[4]!;
  const server = new GawServer({
    host: '127.0.0.1', port: Number(process.argv[3]), secret: process.env.GAW_HOSTILE_SECRET!, encrypt: true, closeTimeoutMs: 1_000,
  }).add(CounterService);
  await server.listen();
  process.send({ port: server.address.port });
  process.on('disconnect', () => {
    void server.close().then(() => process.exit(0));
  });
}
