// Peers that abuse the stream extension, played by hand (test/helpers/gawp-peer.ts): a client that
// opens a stream with all the credit there is and never reads a byte, one that grants 2^32 credit,
// and a server that sends items for a stream nobody opened or past the credit it was given. The
// side that keeps the rules stays bounded, never crashes, and serves everyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { GawClient } from '../../src/client/index.js';
import { ConnectionError } from '../../src/errors.js';
import { FLAG_CTX, FLAG_STREAM, callHead, creditEntry, itemHead } from '../../src/postoffice/index.js';
import { FLAG_FS } from '../../src/postoffice/suite.js';
import { entrypoint } from '../../src/server/index.js';
import { GawpClient, GawpServerSide } from '../helpers/gawp-peer.js';
import { RawServer } from '../helpers/raw-socket.js';
import { startServer, until, within } from '../helpers/server-fixtures.js';

const producer = { steps: 0, finallyRan: 0 };

class Source {
  static serviceName = 'source';

  @entrypoint
  async *items(itemBytes: number): AsyncGenerator<string> {
    const item = 'x'.repeat(itemBytes);
    try {
      for (;;) {
        producer.steps++;
        yield item;
      }
    } finally {
      producer.finallyRan++;
    }
  }

  @entrypoint
  ping(): string {
    return 'pong';
  }
}

function openStream(id: number, window: number, params: unknown[]): Buffer {
  const message = JSON.stringify({ jsonrpc: '2.0', id, method: 'source.items', params });
  return Buffer.concat([callHead({ streamWindow: window }), Buffer.from(message)]);
}

const streamFlags = FLAG_CTX | FLAG_STREAM;

test('a client that grants all the credit there is and never reads: the producer stops at the socket bound', {
  timeout: 30_000,
}, async () => {
  const server = await startServer({}, Source);
  try {
    producer.steps = 0;
    producer.finallyRan = 0;
    const hostile = await GawpClient.handshake(server.address.port, undefined, { suite: 'none', flags: streamFlags });
    hostile.raw.pause();
    await hostile.sendMessages(openStream(1, 0xffff_ffff, [64 * 1024]));
    // The producer runs until the server's unsent output passes 256 KiB and the kernel's socket
    // buffers are full; then it waits. Watch it stop growing (a poll with a deadline).
    let last = -1;
    await until(
      () => {
        const steady = producer.steps === last && last > 0;
        last = producer.steps;
        return steady;
      },
      'the producer pausing',
      20_000,
    );
    // 64 KiB items: 256 KiB in the server's buffer plus what loopback's kernel buffers hold
    // (a few MiB), never the unbounded stream the credit allows.
    assert.ok(producer.steps * 64 * 1024 < 48 * 1024 * 1024, `the producer made ${producer.steps} items`);
    // Everyone else is still served.
    const client = new GawClient({ port: server.address.port });
    try {
      assert.equal(await client.call('source.ping'), 'pong');
    } finally {
      await client.close();
    }
    hostile.raw.destroy();
    await until(() => producer.finallyRan === 1, "the producer's finally after the hostile client left");
  } finally {
    await server.close();
  }
});

test('credit past 2^32 - 1 on one stream is fatal: the connection is closed, the producer stopped', {
  timeout: 30_000,
}, async () => {
  const server = await startServer({}, Source);
  try {
    producer.finallyRan = 0;
    const hostile = await GawpClient.handshake(server.address.port, undefined, { suite: 'none', flags: streamFlags });
    // One item of credit: the producer starts and waits at its yield, with no credit left.
    await hostile.sendMessages(openStream(5, 1, [16]));
    const first = await hostile.receive();
    assert.equal(first.messages[0]!.charCodeAt(0), 3, 'an item entry');
    await hostile.sendMessages(creditEntry(5, 0xffff_ffff), creditEntry(5, 1));
    const closed = await within(hostile.raw.closed, 5_000, 'the server closing the connection');
    assert.ok(closed !== undefined);
    await until(() => producer.finallyRan === 1, "the producer's finally");
    // A credit for a stream that is not running is ignored, not fatal.
    const other = await GawpClient.handshake(server.address.port, undefined, { suite: 'none', flags: streamFlags });
    await other.sendMessages(
      creditEntry(77, 3),
      Buffer.concat([callHead({}), Buffer.from('{"jsonrpc":"2.0","id":1,"method":"source.ping"}')]),
    );
    const frame = await other.receive();
    assert.equal(frame.messages[0]!.slice(1), '{"jsonrpc":"2.0","id":1,"result":"pong"}');
    other.raw.destroy();
  } finally {
    await server.close();
  }
});

/** The JSON-RPC message of an entry as the hand-played peer reads it (after its binary head). */
function jsonOf(entry: string): { id: number } {
  return JSON.parse(entry.slice(entry.indexOf('{"jsonrpc"')));
}

/** A GawClient whose only connection is to a hand-played server that speaks the stream extension. */
async function againstHandPlayedServer(): Promise<{ client: GawClient; side: GawpServerSide; raw: RawServer }> {
  const raw = await RawServer.start();
  const secret = randomBytes(32);
  const client = new GawClient({
    port: raw.port,
    secret: secret.toString('base64'),
    retries: 0,
    poolSize: 1,
    timeoutMs: 10_000,
  });
  const ping = client.call('warm.up').catch(() => undefined);
  const side = new GawpServerSide(await raw.accept());
  const hello = await side.readHello();
  assert.equal(hello.flags, FLAG_FS | FLAG_CTX | FLAG_STREAM);
  await side.answer({ psk: secret, callContext: true, streams: true });
  assert.equal(await side.readFinish(), true);
  const warm = await side.receive();
  const id = jsonOf(warm.messages[0]!).id as number;
  await side.sendMessages(Buffer.from(`\u0000{"jsonrpc":"2.0","id":${id},"result":null}`));
  await ping;
  return { client, side, raw };
}

test('a server that sends items for a stream nobody opened, or past its credit, is disconnected', {
  timeout: 30_000,
}, async () => {
  for (const misdeed of ['unknown stream', 'past the credit'] as const) {
    const { client, side, raw } = await againstHandPlayedServer();
    try {
      const iterated: unknown[] = [];
      const loop = (async () => {
        for await (const item of client.stream('source.items', [1], { streamWindow: 2 })) iterated.push(item);
      })();
      const open = await side.receive();
      assert.equal(open.messages[0]!.charCodeAt(0), 1, 'a stream opens with a kind-1 call');
      const id = jsonOf(open.messages[0]!).id as number;
      const item = (streamId: number) => Buffer.concat([itemHead(streamId), Buffer.from('"x"')]);
      if (misdeed === 'unknown stream') await side.sendMessages(item(id + 1000));
      // The loop takes the first item at once and grants one back (half of a window of 2); six
      // in one frame are more than the three granted however fast it reads.
      else await side.sendMessages(item(id), item(id), item(id), item(id), item(id), item(id));
      await assert.rejects(within(loop, 5_000, `the loop ending (${misdeed})`), (err: unknown) => {
        assert.ok(err instanceof ConnectionError, `${misdeed}: ${String(err)}`);
        assert.match(err.message, misdeed === 'unknown stream' ? /not open/ : /more items than the \d+ granted/);
        return true;
      });
      assert.ok(iterated.length <= 3, misdeed);
    } finally {
      client.destroy();
      await raw.close();
    }
  }
});
