import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPretty } from '../../src/cli/logger.js';

test('the terminal format shows time, level, message and the other fields as key=value', () => {
  const line = JSON.stringify({
    level: 'info',
    time: '2025-01-02T03:04:05.678Z',
    pid: 1,
    msg: 'gaw started',
    address: '127.0.0.1:5555',
    services: { math_service: ['plus'] },
  });
  assert.equal(
    formatPretty(line, false),
    '03:04:05.678 INFO  gaw started address=127.0.0.1:5555 services={"math_service":["plus"]}\n',
  );
  assert.equal(formatPretty(line, true).slice(13, 18), '\x1b[32m');
});

test('the terminal format shows an error stack indented and passes unparsable lines through', () => {
  const line = JSON.stringify({
    level: 'error',
    time: '2025-01-02T03:04:05.678Z',
    msg: 'failed',
    err: { type: 'Error', message: 'x', stack: 'Error: x\n    at f' },
  });
  assert.equal(formatPretty(line, false), '03:04:05.678 ERROR failed err=\n    Error: x\n        at f\n');
  assert.equal(formatPretty('not json\n', false), 'not json\n');
});
