import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import { LegacyClient, LegacyListener, parsePythonJson, stringifyPython } from '../../src/legacy/index.js';
import type { LegacyListenerOptions } from '../../src/legacy/index.js';
import { Dispatcher } from '../../src/server/index.js';
import type { Logger } from '../../src/log.js';
import { MathResult, MathService, RawPeer, mathRegistry, pythonSeal } from './peers.js';
import { jsonOf, loadTranscript, wireFrames } from './transcript.js';
import { loadFixture } from '../helpers/fixtures.js';

const reads = loadTranscript();
const requestsOnWire = wireFrames(reads, 'C>S');
const repliesOnWire = wireFrames(reads, 'S>C');
const vectorSecret = loadFixture<{ secret: string }>('gaw07-crypto-vectors.json').secret;

function recordingLogger(lines: string[]): Logger {
  const record = (first: unknown, second?: unknown): void => {
    lines.push(typeof first === 'string' ? first : `${String(second)} ${JSON.stringify(first)}`);
  };
  return { debug: () => {}, info: record, warn: record, error: record };
}

async function start(t: TestContext, options: Partial<LegacyListenerOptions> = {}) {
  const registry = mathRegistry();
  const dispatcher = new Dispatcher({ registry });
  dispatcher.add(MathService, 'Hello!');
  const logLines: string[] = [];
  const listener = new LegacyListener({
    dispatch: (m) => dispatcher.dispatch(m),
    registry,
    logger: recordingLogger(logLines),
    ...options,
  });
  await listener.listen();
  const port = listener.address.port;
  const client = (extra: { secret?: string; encrypt?: boolean; maxConnections?: number } = {}) => {
    const c = new LegacyClient({
      host: '127.0.0.1',
      port,
      registry,
      secret: options.secret,
      encrypt: options.encrypt,
      ...extra,
    });
    t.after(() => c.close());
    return c;
  };
  t.after(() => listener.close());
  return { listener, port, client, logLines, registry };
}

test("Python Gaw's captured requests get byte-identical replies from our listener, on one connection", async (t) => {
  const { port } = await start(t);
  const peer = await RawPeer.open(port);
  t.after(() => peer.socket.destroy());
  for (let i = 0; i < 2; i++) {
    peer.write(requestsOnWire[i]!);
    assert.deepEqual(await peer.readFrame(), repliesOnWire[i]);
  }
  peer.write(requestsOnWire[2]!);
  const ours = parsePythonJson(jsonOf(await peer.readFrame()).toString());
  const theirs = parsePythonJson(jsonOf(repliesOnWire[2]!).toString()) as {
    data: { _v: { payload: { trace: string } } };
  };
  theirs.data._v.payload.trace = '';
  assert.equal(stringifyPython(ours), stringifyPython(theirs));
});

test('requests sent back to back without waiting are answered in order', async (t) => {
  const { port } = await start(t);
  const peer = await RawPeer.open(port);
  t.after(() => peer.socket.destroy());
  peer.write(Buffer.concat([requestsOnWire[0]!, requestsOnWire[1]!]));
  assert.deepEqual(await peer.readFrame(), repliesOnWire[0]);
  assert.deepEqual(await peer.readFrame(), repliesOnWire[1]);
});

const modes = [
  { label: 'plain', secret: undefined, encrypt: false },
  { label: 'signed (16-byte key)', secret: randomBytes(16).toString('base64'), encrypt: false },
  { label: 'encrypted (AES-192, the vector key)', secret: vectorSecret, encrypt: true },
  { label: 'encrypted (AES-256)', secret: randomBytes(32).toString('base64'), encrypt: true },
];

for (const mode of modes) {
  test(`${mode.label} mode round-trips calls through our legacy client and listener`, async (t) => {
    const { client } = await start(t, { secret: mode.secret, encrypt: mode.encrypt });
    const c = client();
    assert.equal(await c.call('math_service.plus', [10, 20]), 'Hello!: 30');
    const product = await c.call('math_service.multiply', { a: 10, b: 20 });
    assert.ok(product instanceof MathResult);
    assert.deepEqual({ ...product }, { header: 'Hello!', result: 200 });
    assert.equal(await c.call('math_service.plus', { args: [1, 2] }), 'Hello!: 3');
    assert.equal(await c.call('math_service.echo', [2n ** 100n + 1n]), 2n ** 100n + 1n);
    assert.deepEqual(await c.call('math_service.echo', [{ nested: [1, 'two', null, { deep: true }] }]), {
      nested: [1, 'two', null, { deep: true }],
    });
    await assert.rejects(c.call('math_service.fail', ['too big']), {
      code: 'GAW_ERR_REMOTE',
      rpcCode: -32000,
      message: 'RangeError: too big',
      data: { name: 'RangeError', message: 'too big', trace: '' },
    });
    await assert.rejects(c.call('math_service.divide', [1, 0]), {
      rpcCode: -32601,
      message: 'KeyError: path: math_service/divide not found',
    });
    await assert.rejects(c.call('math_service.plus', { args: [1], kwargs: { b: 2 } }), {
      message: /^TypeError: .*not both/,
    });
    await assert.rejects(c.call('math_service.plus', [1, 2, 3]), { message: /^TypeError: / });
  });
}

test('concurrent calls share a small pool, one call per connection at a time', async (t) => {
  const { client, listener } = await start(t);
  const c = client({ maxConnections: 2 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.call('math_service.echo', [i])));
  assert.deepEqual(
    results,
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(listener.connectionCount, 2);
});

const signedSecret = randomBytes(32).toString('base64');
const wrongKey = randomBytes(32);
const json = Buffer.from(
  '{"_v": {"id": 1, "path": "math_service/plus", "payload": {"args": {"_v": [1, 2], "_t": "tuple"}, "kwargs": {}}}, "_t": "RequestDataType"}',
);
const hostile: [label: string, bytes: Buffer | string, mode: { encrypt: boolean }][] = [
  ['a negative length', '-5\nabcde', { encrypt: false }],
  ['a non-digit length', 'abc\n', { encrypt: false }],
  ['an overlong length of eleven digits', '12345678901\n', { encrypt: false }],
  ['a length of 2^32', '4294967296\n', { encrypt: false }],
  ['a zero length', '0\n', { encrypt: false }],
  ['a length below a signed payload', `32\n${'x'.repeat(32)}`, { encrypt: false }],
  [
    'a GAWP/1 client hello',
    Buffer.concat([Buffer.from('GAWP\x01\x01\x00\x00\x00', 'latin1'), randomBytes(64)]),
    { encrypt: false },
  ],
  ['a bad MAC', Buffer.concat([Buffer.from(`${32 + json.length}\n`), randomBytes(32), json]), { encrypt: false }],
  [
    'a MAC made with another key',
    Buffer.concat([Buffer.from(`${32 + json.length}\n`), pythonSeal('sign', wrongKey, json)]),
    { encrypt: false },
  ],
  [
    'ciphertext made with another key',
    (() => {
      const b = pythonSeal('encrypt', wrongKey, json);
      return Buffer.concat([Buffer.from(`${b.length}\n`), b]);
    })(),
    { encrypt: true },
  ],
  ['a misaligned ciphertext length', `65\n${'x'.repeat(65)}`, { encrypt: true }],
];

for (const [label, bytes, mode] of hostile) {
  test(`${label} closes the connection without a reply, and a legitimate client still works`, async (t) => {
    const { port, client, logLines } = await start(t, { secret: signedSecret, encrypt: mode.encrypt });
    const peer = await RawPeer.open(port);
    peer.write(bytes);
    assert.equal((await peer.closed).length, 0);
    assert.ok(logLines.some((line) => line.includes('legacy connection closed')));
    assert.ok(!logLines.join('\n').includes(signedSecret));
    assert.equal(await client().call('math_service.plus', [1, 2]), 'Hello!: 3');
  });
}

test('a truncated frame followed by FIN closes the connection without a reply', async (t) => {
  const { port, client } = await start(t, { secret: signedSecret });
  const peer = await RawPeer.open(port);
  peer.socket.end(Buffer.from('100\nabc'));
  assert.equal((await peer.closed).length, 0);
  assert.equal(await client().call('math_service.plus', [1, 2]), 'Hello!: 3');
});

test('a frame that stalls past frameTimeoutMs and a silent connection past idleTimeoutMs are closed', async (t) => {
  const { port, client } = await start(t, { frameTimeoutMs: 100, idleTimeoutMs: 200 });
  const stalled = await RawPeer.open(port);
  stalled.write('10\nabc');
  const silent = await RawPeer.open(port);
  assert.equal((await stalled.closed).length, 0);
  assert.equal((await silent.closed).length, 0);
  assert.equal(await client().call('math_service.plus', [1, 2]), 'Hello!: 3');
});

test('at the cap of unauthenticated connections the oldest is dropped so an honest client gets in', async (t) => {
  const { port, client } = await start(t, { secret: signedSecret, maxUnauthenticated: 2 });
  const first = await RawPeer.open(port);
  await RawPeer.open(port);
  assert.equal(await client().call('math_service.plus', [1, 2]), 'Hello!: 3');
  assert.equal((await first.closed).length, 0);
});

test('past maxConnections a new connection is closed at once', async (t) => {
  const { port, client } = await start(t, { maxConnections: 1 });
  const c = client();
  assert.equal(await c.call('math_service.plus', [1, 2]), 'Hello!: 3');
  const extra = await RawPeer.open(port);
  assert.equal((await extra.closed).length, 0);
  assert.equal(await c.call('math_service.plus', [3, 4]), 'Hello!: 7');
});

test('an authentic payload that is not a request gets a transport error and the connection stays usable', async (t) => {
  const { port } = await start(t);
  const peer = await RawPeer.open(port);
  t.after(() => peer.socket.destroy());
  peer.write('5\nhello');
  const reply = parsePythonJson(jsonOf(await peer.readFrame()).toString()) as {
    succ: boolean;
    data: { name: string; message: string };
  };
  assert.equal(reply.succ, false);
  assert.equal(reply.data.name, 'ValueError');
  assert.match(reply.data.message, /not in JSON/);
  peer.write('2\n{}');
  assert.match(jsonOf(await peer.readFrame()).toString(), /RequestDataType/);
  peer.write(requestsOnWire[0]!);
  assert.deepEqual(await peer.readFrame(), repliesOnWire[0]);
});

test('a reply larger than maxPayloadBytes is replaced by a ValueError', async (t) => {
  const { client } = await start(t, { maxPayloadBytes: 400 });
  const c = client();
  assert.equal(await c.call('math_service.repeat', ['x', 200]), 'x'.repeat(200));
  await assert.rejects(c.call('math_service.repeat', ['x', 300]), {
    message: /^ValueError: the reply is \d+ bytes, above the frame cap of 400/,
  });
});

test('listening logs that the mode has no replay protection and that signing does not encrypt', async (t) => {
  const { logLines } = await start(t, { secret: signedSecret });
  const warning = logLines.join('\n');
  assert.match(warning, /no replay protection/);
  assert.match(warning, /signed mode does not encrypt/);
  assert.ok(!warning.includes(signedSecret));
});

test('close lets a call in progress answer, refuses new connections, and is idempotent', async (t) => {
  const { listener, port, client } = await start(t);
  const c = client();
  const started = new Promise<void>((resolve) => (MathService.onWait = resolve));
  const call = c.call('math_service.wait');
  await started;
  const idle = await RawPeer.open(port);
  const closing = listener.close();
  assert.equal(listener.close(), closing);
  assert.equal((await idle.closed).length, 0);
  const refused = connect({ host: '127.0.0.1', port });
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  MathService.waiting.shift()!('done');
  assert.equal(await call, 'done');
  await closing;
  assert.equal(listener.connectionCount, 0);
});

test('options are validated with errors that name them', () => {
  const dispatch = async () => undefined;
  assert.throws(() => new LegacyListener({ dispatch, maxPayloadBytes: 0 }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /maxPayloadBytes/,
  });
  assert.throws(() => new LegacyListener({ dispatch, secret: 'short' }), { code: 'GAW_ERR_BAD_SECRET' });
  assert.throws(() => new LegacyListener({ dispatch, encrypt: true }), {
    code: 'GAW_ERR_INVALID_OPTION',
    message: /encrypt needs a secret/,
  });
  assert.throws(() => new LegacyListener({} as LegacyListenerOptions), { message: /dispatch/ });
});

test('our client with the wrong secret sees the connection closed, with nothing written back', async (t) => {
  const { client } = await start(t, { secret: signedSecret, encrypt: true });
  const wrong = client({ secret: randomBytes(32).toString('base64'), encrypt: true });
  await assert.rejects(wrong.call('math_service.plus', [1, 2]), { code: 'GAW_ERR_CONN_CLOSED' });
  assert.equal(await client().call('math_service.plus', [1, 2]), 'Hello!: 3');
});
