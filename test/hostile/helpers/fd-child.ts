// A GawServer with the HTTP bridge in a child process whose open-file limit the parent chooses
// (`ulimit -n` in bash, then exec node), for the descriptor-exhaustion attacks. It prints one JSON
// line with its ports on stdout and exits when stdin closes. Run without `--fd-child` it does nothing.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GawServer } from '../../../src/server/index.js';
import type { GawServerOptions } from '../../../src/server/index.js';
import { LabelService, within } from '../../helpers/server-fixtures.js';

const childFlag = '--fd-child';

export interface FdChild {
  child: ChildProcess;
  port: number;
  httpPort: number;
  /** Resolves with the exit code (or signal) once the child has exited. */
  exited: Promise<string>;
  /** Everything the child wrote on stderr so far. */
  stderr(): string;
  stop(): Promise<string>;
}

/** Starts the child under `ulimit -n <maxFiles>` with `options` (plain JSON) and the secret in its environment. */
export async function startFdChild(maxFiles: number, options: GawServerOptions, secret: string): Promise<FdChild> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${maxFiles} && exec "$0" "$@"`, process.execPath, script, childFlag, JSON.stringify(options)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, GAW_FD_CHILD_SECRET: secret } },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk.slice(0, 100_000);
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(String(signal ?? code))),
  );
  const ready = await within(
    new Promise<{ port: number; httpPort: number }>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const newline = out.indexOf('\n');
        if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)) as { port: number; httpPort: number });
      });
      void exited.then((code) => reject(new Error(`the fd child exited with ${code} before listening: ${stderr}`)));
    }),
    15_000,
    'the fd child listening',
  );
  return {
    child,
    ...ready,
    exited,
    stderr: () => stderr,
    stop: () => {
      child.stdin!.end();
      return exited;
    },
  };
}

/** JSON lines on stderr, for debugging a failing run with GAW_FD_CHILD_DEBUG=1. */
function stderrLogger() {
  const line = (level: string) => (obj: unknown, msg?: string) =>
    process.stderr.write(`${JSON.stringify({ level, t: Math.round(performance.now()), msg, obj })}\n`);
  return { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
}

if (process.argv[2] === childFlag) {
  const options = JSON.parse(process.argv[3] ?? '{}') as GawServerOptions;
  const server = new GawServer({
    host: '127.0.0.1',
    port: 0,
    secret: process.env.GAW_FD_CHILD_SECRET!,
    encrypt: true,
    closeTimeoutMs: 500,
    ...(process.env.GAW_FD_CHILD_DEBUG && { logger: stderrLogger() }),
    ...options,
  }).add(LabelService, 'fd-child');
  await server.listen();
  process.stdout.write(`${JSON.stringify({ port: server.address.port, httpPort: server.httpAddress?.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void server.close().then(() => process.exit(0));
  });
}
