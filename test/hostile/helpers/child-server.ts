// A GawServer in a child process, so a test can SIGKILL it mid-load and start it again on the same
// port. Every call is written to a count file synchronously when its handler starts, so executions
// survive the kill and "ran at most once" can be checked across both lives. The parent side is
// startChildVictim; run directly without `--hostile-child` this file does nothing.
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { GawServer, entrypoint } from '../../../src/server/index.js';
import { forkListening } from '../../helpers/server-fixtures.js';
import type { ForkedServer } from '../../helpers/server-fixtures.js';

const childFlag = '--hostile-child';

/** `counter.idem(key)` is safe to repeat; `counter.once(key)` must run at most once per key. */
export class CounterService {
  static serviceName = 'counter';
  static countFile = '';

  @entrypoint idem(key: string): Promise<string> {
    return counted('idem', key);
  }

  @entrypoint once(key: string): Promise<string> {
    return counted('once', key);
  }
}

/** Writes `method key` to the count file before anything else, then answers `key` a moment later. */
async function counted(method: string, key: string): Promise<string> {
  appendFileSync(CounterService.countFile, `${method} ${key}\n`);
  await delay(2);
  return key;
}

/** Executions per `method key`, read from the count file. */
export function readCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) if (line !== '') counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Starts a child on `port` (0: a free one) with the secret passed in its environment. */
export function startChildVictim(port: number, countFile: string, secret: string): Promise<ForkedServer> {
  return forkListening(fileURLToPath(import.meta.url), [childFlag, String(port), countFile], {
    ...process.env,
    GAW_HOSTILE_SECRET: secret,
  });
}

if (process.argv[2] === childFlag && process.send) {
  CounterService.countFile = process.argv[4]!;
  const server = new GawServer({
    host: '127.0.0.1',
    port: Number(process.argv[3]),
    secret: process.env.GAW_HOSTILE_SECRET!,
    encrypt: true,
    closeTimeoutMs: 1_000,
  }).add(CounterService);
  await server.listen();
  process.send({ port: server.address.port });
  process.on('disconnect', () => {
    void server.close().then(() => process.exit(0));
  });
}
