// Test helper: runs the real bin/gaw.js in child processes (spawn, never a shell). `runGaw` waits
// for a command to exit; `startGaw` waits for a long-running one's startup log line and reads the
// bound ports from it. Every wait is bounded; `stopAll` kills what is still running.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs as dist/test/cli/run-gaw.js). */
export const rootDir = fileURLToPath(new URL('../../../', import.meta.url));
export const gawBin = `${rootDir}bin/gaw.js`;
export const examplesDir = `${rootDir}examples/`;

const defaultTimeoutMs = 15_000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment children get: the parent's, minus any GAW_* variable, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GAW_')) env[key] = value;
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

const running = new Set<ChildProcess>();

/** Waits for `child` to exit, killing it after `timeoutMs`. */
function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function spawnScript(script: string, args: readonly string[], options: RunOptions): ChildProcess {
  return spawnCommand(process.execPath, [script, ...args], options);
}

function spawnCommand(command: string, args: readonly string[], options: RunOptions): ChildProcess {
  const child = spawn(command, args, {
    cwd: options.cwd ?? rootDir,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  return child;
}

/** Runs `node <script> ...args` to completion. */
export function runScript(script: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return collect(
    spawnScript(script, args, options),
    options.timeoutMs ?? defaultTimeoutMs,
    `${script} ${args.join(' ')}`,
  );
}

/** Runs `gaw ...args` to completion. */
export function runGaw(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runScript(gawBin, args, options);
}

/** A long-running gaw (a server or a bridge) that has logged its startup line. */
export interface StartedGaw {
  child: ChildProcess;
  /** The startup record ('gaw started' or 'gaw bridge started'). */
  started: Record<string, any>;
  port: number;
  httpPort: number | undefined;
  /** Every JSON log record so far (stdout), in order. */
  records: Record<string, any>[];
  /** Raw stderr so far. */
  stderr(): string;
  /** Resolves with the first record matching `predicate` (seen already or still to come). */
  waitForRecord(predicate: (record: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves when `text` has appeared on stderr. */
  waitForStderr(text: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit result. */
  exited: Promise<RunResult>;
}

/** Starts `gaw ...args` and waits for its startup log line (JSON on stdout). */
export function startGaw(args: readonly string[], options: RunOptions = {}): Promise<StartedGaw> {
  return startScript(gawBin, args, options);
}

/** Starts `node <script> ...args` (a script that runs the CLI) and waits for its startup log line. */
export function startScript(script: string, args: readonly string[], options: RunOptions = {}): Promise<StartedGaw> {
  return startCommand(process.execPath, [script, ...args], options);
}

/** Starts `command ...args` (found on PATH; e.g. npm running gaw) and waits for gaw's startup log line. */
export async function startCommand(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<StartedGaw> {
  const child = spawnCommand(command, args, options);
  const records: Record<string, any>[] = [];
  let stderr = '';
  let pending = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of watchers) watcher();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      try {
        records.push(JSON.parse(line) as Record<string, any>);
      } catch {
        records.push({ unparsed: line });
      }
    }
    notify();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const exited = new Promise<RunResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout: records.map((r) => JSON.stringify(r)).join('\n'), stderr });
      notify();
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const waitFor = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (err: Error | undefined, value?: T) => {
        clearTimeout(timer);
        watchers.delete(watcher);
        if (err) reject(err);
        else resolve(value as T);
      };
      const watcher = () => {
        const value = check();
        if (value !== undefined) done(undefined, value);
        else if (hasExited || child.exitCode !== null || child.signalCode !== null) {
          done(
            new Error(
              `gaw exited (code ${child.exitCode}) before ${what}\nstdout: ${JSON.stringify(records)}\nstderr: ${stderr}`,
            ),
          );
        }
      };
      const timer = setTimeout(
        () => done(new Error(`${what} did not happen within ${timeoutMs} ms\nstderr: ${stderr}`)),
        timeoutMs,
      );
      watchers.add(watcher);
      watcher();
    });
  const waitForRecord = (predicate: (record: Record<string, any>) => boolean, timeoutMs = defaultTimeoutMs) =>
    waitFor(() => records.find(predicate), 'the awaited log line', timeoutMs);
  const waitForStderr = async (text: string, count = 1, timeoutMs = defaultTimeoutMs) => {
    await waitFor(
      () => (stderr.split(text).length - 1 >= count ? true : undefined),
      `${count} x ${JSON.stringify(text)} on stderr`,
      timeoutMs,
    );
  };
  const started = await waitForRecord((r) => r.msg === 'gaw started' || r.msg === 'gaw bridge started');
  const port = typeof started.port === 'number' ? started.port : started.httpPort;
  return {
    child,
    started,
    port,
    httpPort: started.httpPort,
    records,
    stderr: () => stderr,
    waitForRecord,
    waitForStderr,
    exited,
  };
}

/** Kills every child still running (for `after` hooks). */
export function stopAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}
