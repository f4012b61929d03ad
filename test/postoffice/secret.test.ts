// Secrets and option validation: what a bad secret or option is told, and that a secret's value
// never shows up in an error, a string conversion, JSON or util.inspect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { randomBytes } from 'node:crypto';
import { KeyRing, Listener, dial, parseSecret, resolveLimits } from '../../src/postoffice/index.js';
import { GawError } from '../../src/errors.js';

function errorOf(fn: () => unknown): GawError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GawError, `expected a GawError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a throw');
}

function assertNoLeak(err: GawError, secret: string): void {
  const shown = [err.message, String(err), inspect(err), JSON.stringify(err), String(err.stack)].join('\n');
  const core = secret.trim().replace(/=+$/, '');
  if (core.length >= 4) assert.ok(!shown.includes(core), `the error shows the secret: ${err.message}`);
}

test('parseSecret accepts base64 of 16, 24 and 32 bytes, with surrounding whitespace', () => {
  for (const bytes of [16, 24, 32]) {
    const raw = randomBytes(bytes);
    assert.deepEqual(parseSecret(raw.toString('base64')), raw);
    assert.deepEqual(parseSecret(`  ${raw.toString('base64')}\n`), raw);
  }
});

test('parseSecret says what is wrong with each bad secret and never shows its value', () => {
  const cases: [unknown, RegExp][] = [
    [randomBytes(20).toString('base64'), /must decode to 16, 24 or 32 bytes, not 20/],
    [randomBytes(33).toString('base64'), /not 33/],
    [randomBytes(8).toString('base64'), /not 8/],
    ['c2VjcmV0IHRoYXQgaXMgbm90IGJhc2U2NCE$$$$', /not valid base64/],
    ['correct horse battery staple', /not valid base64/],
    [`${randomBytes(32).toString('base64url').replace(/=+$/, '')}-_`, /not valid base64/],
    [randomBytes(32).toString('hex'), /not valid base64|must decode/],
    ['', /not valid base64/],
    ['   ', /not valid base64/],
    [42, /must be a base64 string/],
    [undefined, /must be a base64 string/],
    [randomBytes(32), /must be a base64 string/],
  ];
  for (const [value, pattern] of cases) {
    const err = errorOf(() => parseSecret(value));
    assert.equal(err.code, 'GAW_ERR_BAD_SECRET');
    assert.match(err.message, pattern);
    assert.match(err.message, /gaw keygen/, 'the error says how to make a good one');
    if (typeof value === 'string') assertNoLeak(err, value);
  }
});

test('a KeyRing names the key id of a bad secret and never shows any secret', () => {
  const good = randomBytes(32).toString('base64');
  const bad = randomBytes(31).toString('base64');
  const err = errorOf(() => new KeyRing({ 0: good, 7: bad }));
  assert.equal(err.code, 'GAW_ERR_BAD_SECRET');
  assert.match(err.message, /key id 7/);
  assertNoLeak(err, bad);
  assert.equal(errorOf(() => new KeyRing({ 256: good })).code, 'GAW_ERR_INVALID_OPTION');
  assert.equal(errorOf(() => new KeyRing({})).code, 'GAW_ERR_BAD_SECRET');
  const ring = new KeyRing({ 0: good, 3: randomBytes(16).toString('base64') });
  assert.deepEqual(ring.ids.sort(), [0, 3]);
  for (const shown of [String(ring), JSON.stringify({ ring }), inspect(ring, { showHidden: true, depth: 5 })]) {
    assert.ok(!shown.includes(good.replace(/=+$/, '')), shown);
    assert.ok(!shown.includes(Buffer.from(good, 'base64').toString('hex')), shown);
  }
});

test('limits out of range are refused with the option named', () => {
  assert.deepEqual(resolveLimits({}), resolveLimits());
  for (const [name, value] of [
    ['maxPayloadBytes', 0],
    ['handshakeTimeoutMs', -1],
    ['frameTimeoutMs', 1.5],
    ['idleTimeoutMs', Number.NaN],
    ['highWaterBytes', '8'],
  ] as const) {
    const err = errorOf(() => resolveLimits({ [name]: value } as never));
    assert.equal(err.code, 'GAW_ERR_INVALID_OPTION');
    assert.match(err.message, new RegExp(name));
  }
  const err = errorOf(() => resolveLimits({ highWaterBytes: 1024, maxPendingWriteBytes: 512 }));
  assert.match(err.message, /maxPendingWriteBytes/);
});

test('a listener refuses unknown suites and codecs, bad caps and a missing secret, naming the problem', () => {
  const keyRing = new KeyRing(randomBytes(32).toString('base64'));
  const cases: [object, RegExp, string][] = [
    [{ suites: ['aes'], keyRing }, /suite "aes"/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: [], keyRing }, /at least one suite/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: ['sign'], keyRing, codecs: ['xml'] }, /codec "xml"/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: ['sign'], keyRing, codecs: [] }, /at least one codec/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: ['sign'], keyRing, maxUnauthenticated: 0 }, /maxUnauthenticated/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: ['sign'], keyRing, maxConnections: -1 }, /maxConnections/, 'GAW_ERR_INVALID_OPTION'],
    [{ suites: ['cbc'] }, /needs a secret/, 'GAW_ERR_BAD_SECRET'],
  ];
  for (const [options, pattern, code] of cases) {
    const err = errorOf(() => new Listener(options as never));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
  }
});

test('dial refuses bad options before opening a socket, naming the problem', async () => {
  const psk = randomBytes(32);
  const base = { host: '127.0.0.1', port: 9, suite: 'sign', psk };
  const cases: [object, RegExp, string][] = [
    [{ suite: 'rot13' }, /suite "rot13"/, 'GAW_ERR_INVALID_OPTION'],
    [{ codec: 'yaml' }, /codec "yaml"/, 'GAW_ERR_INVALID_OPTION'],
    [{ keyId: 256 }, /keyId/, 'GAW_ERR_INVALID_OPTION'],
    [{ connectTimeoutMs: 0 }, /connectTimeoutMs/, 'GAW_ERR_INVALID_OPTION'],
    [{ port: 70_000 }, /port/, 'GAW_ERR_INVALID_OPTION'],
    [{ psk: undefined }, /needs a secret/, 'GAW_ERR_BAD_SECRET'],
    [{ psk: randomBytes(12) }, /16, 24 or 32 bytes/, 'GAW_ERR_BAD_SECRET'],
  ];
  for (const [overrides, pattern, code] of cases) {
    await assert.rejects(dial({ ...base, ...overrides } as never), (err: GawError) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message, pattern);
      return true;
    });
  }
});
