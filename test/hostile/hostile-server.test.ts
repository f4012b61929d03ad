// The other direction: a hostile or broken server, played by hand with the secret, attacking a
// GawClient. Replies for ids never sent, duplicated replies, garbage, a 4 GiB frame announcement
// and unregistered class tags must fail only the calls concerned, with clear errors and bounded
// memory, and never crash the client or confuse later calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { GawError } from '../../src/errors.js';
import { parseSecret } from '../../src/postoffice/index.js';
import { GawpServerSide, lowOrderPoints } from '../helpers/gawp-peer.js';
import { RawServer } from '../helpers/raw-socket.js';
import { makeSecret, within } from '../helpers/server-fixtures.js';
import { assertMemoryBounded, memoryNow } from './helpers/victim.js';

interface Hostile {
  server: RawServer;
  client: GawClient;
  /** Accepts the client's next connection and completes the handshake honestly. */
  accept(): Promise<GawpServerSide>;
  close(): Promise<void>;
}

async function hostileServer(): Promise<Hostile> {
  const secret = makeSecret();
  const server = await RawServer.start();
  const client = new GawClient({ port: server.port, secret, encrypt: true, retries: 0, timeoutMs: 3_000, poolSize: 1 });
  return {
    server,
    client,
    async accept() {
      const side = new GawpServerSide(await server.accept());
      await side.readHello();
      await side.answer({ psk: parseSecret(secret) });
      assert.ok(await side.readFinish(), 'the client finished the handshake');
      return side;
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

/** Reads the next request frame and returns its requests' ids. */
async function requestIds(side: GawpServerSide): Promise<number[]> {
  const frame = await side.receive();
  return frame.messages.map((m) => (JSON.parse(m) as { id: number }).id);
}

/** Makes `count` calls, accepts the connection they go out on and reads their request ids. */
async function callsAccepted(
  hostile: Hostile,
  count: number,
): Promise<{ calls: Promise<unknown>[]; side: GawpServerSide; ids: number[] }> {
  const calls = Array.from({ length: count }, (_, n) => hostile.client.call('svc.method', [n + 1]));
  const side = await hostile.accept();
  const ids: number[] = [];
  while (ids.length < count) ids.push(...(await requestIds(side)));
  return { calls, side, ids };
}

test('a fake server (wrong confirm, low-order key, another suite or codec, garbage) is refused before the client writes any request', async () => {
  const secret = makeSecret();
  const server = await RawServer.start();
  const answers: [string, (side: GawpServerSide) => Promise<void>, string][] = [
    ['a wrong secret', (side) => side.answer({ psk: parseSecret(makeSecret()) }), 'GAW_ERR_AUTH_FAILED'],
    [
      'a tampered confirm',
      (side) =>
        side.answer({
          psk: parseSecret(secret),
          tamperAfterConfirm: (hello) => {
            hello[80]! ^= 1;
          },
        }),
      'GAW_ERR_AUTH_FAILED',
    ],
    [
      'a low-order key',
      (side) => side.answer({ psk: parseSecret(secret), eph: lowOrderPoints[0] }),
      'GAW_ERR_BAD_HANDSHAKE',
    ],
    [
      'another suite',
      (side) =>
        side.answer({
          psk: parseSecret(secret),
          editHello: (hello) => {
            hello[5] = 1;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
    ],
    [
      'another codec',
      (side) =>
        side.answer({
          psk: parseSecret(secret),
          editHello: (hello) => {
            hello[7] = 1;
          },
        }),
      'GAW_ERR_BAD_HANDSHAKE',
    ],
    [
      'an HTTP response',
      (side) => side.raw.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'.padEnd(120, ' '))),
      'GAW_ERR_BAD_HANDSHAKE',
    ],
  ];
  try {
    for (const [what, answer, code] of answers) {
      const client = new GawClient({ port: server.port, secret, encrypt: true, retries: 0, timeoutMs: 3_000 });
      const call = client.call('svc.method', ['a request a fake server must never see']);
      const side = new GawpServerSide(await server.accept());
      await side.readHello();
      await answer(side);
      await assert.rejects(call, (err: GawError) => {
        assert.equal(err.code, code, `${what}: ${err.message}`);
        return true;
      });
      client.destroy();
      const closed = await within(side.raw.closed, 3_000, 'the client leaving');
      assert.equal(closed.receivedBytes, 73, `${what}: the fake server got the ClientHello and nothing more`);
    }
  } finally {
    await server.close();
  }
});

test('replies for ids never sent and duplicated replies are dropped; the right reply still settles its call', async () => {
  const hostile = await hostileServer();
  try {
    const {
      calls: [call],
      side,
      ids: [id],
    } = await callsAccepted(hostile, 1);
    await side.sendMessages(
      JSON.stringify({ jsonrpc: '2.0', id: id! + 1000, result: 'forged' }),
      JSON.stringify({ jsonrpc: '2.0', id: 'a string id', result: 'forged' }),
      JSON.stringify({ jsonrpc: '2.0', id: id, result: 'right' }),
      JSON.stringify({ jsonrpc: '2.0', id: id, result: 'duplicate' }),
    );
    assert.equal(await call, 'right');
    const next = hostile.client.call('svc.method', [2]);
    const [nextId] = await requestIds(side);
    await side.sendMessages(JSON.stringify({ jsonrpc: '2.0', id: nextId, result: 'second' }));
    assert.equal(await next, 'second', 'the connection is still usable');
  } finally {
    await hostile.close();
  }
});

test('a reply that is not JSON-RPC fails the calls on that connection with GAW_ERR_CONN_CLOSED naming the bad response, and the client dials again', async () => {
  const hostile = await hostileServer();
  try {
    for (const garbage of [
      'not json',
      '{"jsonrpc":"2.0","id":1}',
      '{"jsonrpc":"1.0","id":1,"result":1}',
      '[1,2,3]',
      '{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":1}}',
    ]) {
      const {
        calls: [call],
        side,
      } = await callsAccepted(hostile, 1);
      await side.sendMessages(garbage);
      await assert.rejects(call, (err: GawError) => {
        assert.equal(err.code, 'GAW_ERR_CONN_CLOSED', garbage);
        assert.match(err.message, /cannot be read|not a JSON-RPC|not valid/, garbage);
        return true;
      });
      await within(side.raw.closed, 3_000, 'the client closing on a bad reply');
    }
  } finally {
    await hostile.close();
  }
});

test('a server announcing a 4 GiB frame, or one past the cap, is cut by the client before it allocates anything', async () => {
  const hostile = await hostileServer();
  try {
    const before = memoryNow();
    for (const len of [0xffff_ffff, 16 * 1024 * 1024 + 49 + 16 + 16, 0, 64]) {
      const {
        calls: [call],
        side,
      } = await callsAccepted(hostile, 1);
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(len);
      await side.raw.write(Buffer.concat([prefix, Buffer.alloc(100, 1)])).catch(() => {});
      await assert.rejects(call, (err: GawError) => {
        assert.equal(err.code, 'GAW_ERR_CONN_CLOSED', `length ${len}`);
        return true;
      });
      await within(side.raw.closed, 3_000, 'the client cutting the connection');
    }
    assertMemoryBounded(before, 64 * 1024 * 1024, 'frames announced at 4 GiB');
  } finally {
    await hostile.close();
  }
});

test('a result carrying an unregistered class tag rejects that call only with GAW_ERR_UNKNOWN_TAG; the other calls and the connection carry on', async () => {
  const hostile = await hostileServer();
  try {
    const { calls, side, ids } = await callsAccepted(hostile, 2);
    await side.sendMessages(
      JSON.stringify({
        jsonrpc: '2.0',
        id: ids[0],
        result: { _t: 'constructor', _v: { prototype: { polluted: true } } },
      }),
      JSON.stringify({ jsonrpc: '2.0', id: ids[1], result: 'fine' }),
    );
    const [tagged, fine] = await Promise.allSettled(calls);
    assert.equal(tagged.status, 'rejected');
    assert.equal((tagged as PromiseRejectedResult).reason.code, 'GAW_ERR_UNKNOWN_TAG');
    assert.deepEqual(fine, { status: 'fulfilled', value: 'fine' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(hostile.client.connectionCount, 1);
  } finally {
    await hostile.close();
  }
});

test('a reply nested deeper than maxDepth cannot be matched to its call: the client drops the connection, every call on it fails naming the depth, and the next call dials again', async () => {
  const hostile = await hostileServer();
  try {
    const { calls, side, ids } = await callsAccepted(hostile, 2);
    await side.sendMessages(
      JSON.stringify({ jsonrpc: '2.0', id: ids[0], result: JSON.parse('['.repeat(100) + ']'.repeat(100)) }),
      JSON.stringify({ jsonrpc: '2.0', id: ids[1], result: 'fine' }),
    );
    for (const outcome of await Promise.allSettled(calls)) {
      assert.equal(outcome.status, 'rejected');
      const err = (outcome as PromiseRejectedResult).reason as GawError;
      assert.equal(err.code, 'GAW_ERR_CONN_CLOSED');
      assert.match(err.message, /nests deeper than maxDepth \(64\)/);
      assert.ok(err.message.length < 500, 'the message is bounded');
    }
    const next = hostile.client.call('svc.method', [3]);
    const again = await hostile.accept();
    const [id] = await requestIds(again);
    await again.sendMessages(JSON.stringify({ jsonrpc: '2.0', id, result: 'again' }));
    assert.equal(await next, 'again');
  } finally {
    await hostile.close();
  }
});
