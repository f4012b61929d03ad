// When a GawClient suspects a connection: only when nothing at all (not a byte) arrived since a
// call that timed out was sent. A server played by hand streams one large reply slowly while
// another call times out: the bytes prove it alive, so no rpc.ping probe is sent and nothing fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { GawClient } from '../../src/client/index.js';
import { TimeoutError } from '../../src/errors.js';
import { parseSecret } from '../../src/postoffice/index.js';
import { GawpServerSide } from '../helpers/gawp-peer.js';
import { RawServer } from '../helpers/raw-socket.js';
import { makeSecret, within } from '../helpers/server-fixtures.js';

interface Request {
  id: number;
  method: string;
}

async function nextRequests(side: GawpServerSide): Promise<Request[]> {
  return (await side.receive()).messages.map((m) => JSON.parse(m) as Request);
}

test('a call that times out while another reply is still streaming in does not get the connection probed or destroyed', async () => {
  const secret = makeSecret();
  const server = await RawServer.start();
  const client = new GawClient({ port: server.port, secret, encrypt: true, retries: 0, poolSize: 1 });
  try {
    const big = client.call<string>('svc.big', [], { timeoutMs: 10_000 });
    const side = new GawpServerSide(await server.accept());
    await side.readHello();
    await side.answer({ psk: parseSecret(secret) });
    assert.ok(await side.readFinish());
    const [first] = await nextRequests(side);
    assert.equal(first!.method, 'svc.big');
    let hasTimedOut = false;
    const short = client.call('svc.short', [], { timeoutMs: 300 }).catch((err: unknown) => {
      hasTimedOut = true;
      return err;
    });
    const [second] = await nextRequests(side);
    assert.equal(second!.method, 'svc.short');
    // The reply to the first call leaves a kilobyte at a time (paced: a slow link) until the
    // second call has timed out, then all at once.
    const frame = side.sealMessages(JSON.stringify({ jsonrpc: '2.0', id: first!.id, result: 'x'.repeat(200_000) }));
    let offset = 0;
    while (!hasTimedOut && offset < frame.length - 1_024) {
      await side.raw.write(frame.subarray(offset, offset + 1_024));
      offset += 1_024;
      await delay(20);
    }
    const timedOut = await within(short, 5_000, 'the short call timing out');
    assert.ok(timedOut instanceof TimeoutError && timedOut.code === 'GAW_ERR_CALL_TIMEOUT', String(timedOut));
    await side.raw.write(frame.subarray(offset));
    assert.equal((await within(big, 5_000, 'the big reply')).length, 200_000);
    // A probe would have left when the short call timed out, so before this next call.
    const next = client.call<number>('svc.next', []);
    const [third] = await nextRequests(side);
    assert.equal(third!.method, 'svc.next', 'no rpc.ping probe was sent');
    await side.sendMessages(JSON.stringify({ jsonrpc: '2.0', id: third!.id, result: 7 }));
    assert.equal(await next, 7);
    assert.equal(client.connectionCount, 1);
  } finally {
    client.destroy();
    await server.close();
  }
});
