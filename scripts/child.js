// Runs one child process in the project root for the npm scripts, as if it were this process:
// output shared, SIGINT/SIGTERM passed on, and its exit code or signal becomes this process's.
import { spawn } from 'node:child_process';

export function runAsChild(root, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (signal !== null) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
