// No orphan keeps serving: under `npx gaw` / `npm start` the tree is npm -> sh -c -> node, npm
// forwards SIGTERM only to the shell, and the shell dies without passing it on. gaw notices that
// its parent is gone and stops as on SIGTERM. Real process trees, killed by pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examplesDir, gawBin, startCommand } from './run-gaw.js';
import type { StartedGaw } from './run-gaw.js';

const quietNpm = { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once `pid` has exited, or rejects after `timeoutMs`. */
async function exitOf(pid: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`${what} (pid ${pid}) is still running ${timeoutMs} ms after its parent died`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Kills `tree.child` (the top of the tree) with `signal` and checks that gaw, further down, stops gracefully. */
async function killTopAndExpectStop(tree: StartedGaw, signal: NodeJS.Signals): Promise<void> {
  const gawPid = tree.started.pid as number;
  assert.notEqual(gawPid, tree.child.pid, 'gaw runs below the process killed');
  try {
    tree.child.kill(signal);
    await exitOf(gawPid, 10_000, 'gaw');
    await tree.waitForRecord((r) => r.msg === 'gaw stopped' || r.msg === 'gaw bridge stopped');
    assert.ok(tree.records.some((r) => r.msg === 'the process that started gaw exited: stopping'));
  } finally {
    if (isAlive(gawPid)) process.kill(gawPid, 'SIGKILL');
  }
}

test('under npm exec (what npx gaw runs), SIGTERM to npm stops gaw instead of leaving it serving', async () => {
  const tree = await startCommand(
    'npm',
    ['exec', '--offline', '--', 'node', gawBin, `${examplesDir}services.js`, '--port', '0'],
    {
      env: quietNpm,
    },
  );
  await killTopAndExpectStop(tree, 'SIGTERM');
});

test('the demo under npm (what npm start runs after its build) stops when npm gets SIGTERM', async () => {
  const tree = await startCommand('npm', ['exec', '--offline', '--', 'node', `${examplesDir}demo.js`], {
    env: { ...quietNpm, GAW_PORT: '0', GAW_HTTP_PORT: '0' },
  });
  await killTopAndExpectStop(tree, 'SIGTERM');
});

test('with --exit-with-parent, gaw stops when a shell that started it is SIGKILLed', async () => {
  // `; true` keeps dash from exec-ing node, so node stays the shell's child.
  const script = `"${process.execPath}" "${gawBin}" "${examplesDir}services.js" --port 0 --exit-with-parent; true`;
  const tree = await startCommand('sh', ['-c', script]);
  await killTopAndExpectStop(tree, 'SIGKILL');
});
