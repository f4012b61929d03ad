// Shared by the dispatcher and HTTP bridge tests: the service the JSON-RPC spec examples call, and
// the comparison rules of test/fixtures/jsonrpc-spec-examples.json (batches matched by id).
import assert from 'node:assert/strict';
import { entrypoint } from '../../src/server/service.js';
import { loadFixture } from '../helpers/fixtures.js';

export interface SpecCase {
  id: string;
  request?: unknown;
  request_raw?: string;
  expect: 'response' | 'no_response';
  response?: unknown;
}

export const specCases: SpecCase[] = loadFixture<{ cases: SpecCase[] }>('jsonrpc-spec-examples.json').cases;

/** Hosts the methods the spec examples use; `notified` records notifications that ran. */
export class SpecService {
  static serviceName = 'spec';
  static notified: string[] = [];
  @entrypoint subtract(minuend: number, subtrahend: number) {
    return minuend - subtrahend;
  }
  @entrypoint sum(...values: number[]) {
    return values.reduce((total, value) => total + value, 0);
  }
  @entrypoint update(...args: unknown[]) {
    SpecService.notified.push(`update ${JSON.stringify(args)}`);
  }
  @entrypoint notify_hello(...args: unknown[]) {
    SpecService.notified.push(`notify_hello ${JSON.stringify(args)}`);
  }
  @entrypoint notify_sum(...args: unknown[]) {
    SpecService.notified.push(`notify_sum ${JSON.stringify(args)}`);
  }
  @entrypoint get_data() {
    return ['hello', 5];
  }
}

interface Reply {
  jsonrpc?: unknown;
  id?: unknown;
  result?: unknown;
  error?: { code: unknown; message: unknown; data?: unknown };
}

function assertOne(actual: Reply, expected: Reply, label: string): void {
  assert.equal(actual.jsonrpc, '2.0', label);
  assert.deepEqual(actual.id, expected.id, label);
  if (expected.error === undefined) {
    assert.equal(actual.error, undefined, `${label}: unexpected error ${JSON.stringify(actual.error)}`);
    assert.deepEqual(actual.result, expected.result, label);
    return;
  }
  assert.ok(actual.error, `${label}: expected an error, got ${JSON.stringify(actual)}`);
  assert.equal(actual.error.code, expected.error.code, label);
  assert.equal(typeof actual.error.message, 'string', label);
  assert.ok(
    (actual.error.message as string).startsWith(expected.error.message as string),
    `${label}: message ${JSON.stringify(actual.error.message)}`,
  );
  assert.equal(Object.hasOwn(actual, 'result'), false, label);
}

/** Checks a reply against a case's expectation; batch replies may come in any order. */
export function assertSpecReply(actual: unknown, specCase: SpecCase): void {
  const label = `case ${specCase.id}`;
  if (specCase.expect === 'no_response') {
    assert.equal(actual, undefined, `${label}: expected no reply, got ${JSON.stringify(actual)}`);
    return;
  }
  const expected = specCase.response;
  if (!Array.isArray(expected)) {
    assert.ok(!Array.isArray(actual), `${label}: expected a single object`);
    assertOne(actual as Reply, expected as Reply, label);
    return;
  }
  assert.ok(Array.isArray(actual), `${label}: expected an array, got ${JSON.stringify(actual)}`);
  assert.equal(actual.length, expected.length, `${label}: ${JSON.stringify(actual)}`);
  const remaining = [...(actual as Reply[])];
  for (const want of expected as Reply[]) {
    const at = remaining.findIndex((got) =>
      want.id === null ? got.id === null && got.error?.code === want.error?.code : got.id === want.id,
    );
    assert.ok(at >= 0, `${label}: no reply matching ${JSON.stringify(want)} in ${JSON.stringify(actual)}`);
    assertOne(remaining[at]!, want, label);
    remaining.splice(at, 1);
  }
}
