// Peers that abuse the call-context extension against a real GawServer, with a hand-played client
// (test/helpers/gawp-peer.ts) that offers CTX: budgets of 0 and 2^32 - 1, cancels for ids that do
// not exist (100,000 of them), a cancel for a request still waiting for a slot. The server stays
// bounded, never crashes, keeps the connection, and runs nothing it was told not to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callContext } from '../../src/context.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { FLAG_CTX, callHead, cancelEntry } from '../../src/postoffice/index.js';
import { entrypoint } from '../../src/server/index.js';
import { GawpClient } from '../helpers/gawp-peer.js';
import { Gate, startServer } from '../helpers/server-fixtures.js';

class Counter {
  static serviceName = 'counter';
  runs = 0;
  readonly gate = new Gate();

  @entrypoint
  async bump(): Promise<unknown> {
    this.runs++;
    const context = callContext();
    return { runs: this.runs, hasDeadline: context?.deadline !== undefined };
  }

  @entrypoint
  async block(): Promise<string> {
    this.runs++;
    await this.gate.promise;
    return 'released';
  }
}

function request(id: number, method: string): Buffer {
  return Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method }));
}

/** The next replies, parsed (each reply entry is kind 0: its first byte is dropped). */
async function replies(client: GawpClient, count: number): Promise<Record<string, any>[]> {
  const out: Record<string, any>[] = [];
  while (out.length < count) {
    const frame = await client.receive();
    for (const m of frame.messages) {
      assert.equal(m.charCodeAt(0), 0, 'a reply entry is kind 0');
      out.push(JSON.parse(m.slice(1)));
    }
  }
  return out;
}

async function session(maxInFlight = 256) {
  const counter = new Counter();
  const server = await startServer({ maxInFlight }, [
    class extends Counter {
      static override serviceName = 'counter';
      constructor() {
        super();
        return counter;
      }
    },
  ]);
  const client = await GawpClient.handshake(server.address.port, undefined, { suite: 'none', flags: FLAG_CTX });
  return { server, client, counter };
}

test('a budget of 0 is not run (-32004); a budget of 2^32 - 1 ms means no deadline', async () => {
  const { server, client, counter } = await session();
  try {
    await client.sendMessages(
      Buffer.concat([callHead({ budgetMs: 0 }), request(1, 'counter.bump')]),
      Buffer.concat([callHead({ budgetMs: 0xffff_ffff }), request(2, 'counter.bump')]),
    );
    const [expired, huge] = await replies(client, 2);
    assert.equal(expired!.id, 1);
    assert.equal(expired!.error.code, rpcErrorCodes.DEADLINE_EXCEEDED);
    assert.deepEqual(huge, { jsonrpc: '2.0', id: 2, result: { runs: 1, hasDeadline: false } });
    assert.equal(counter.runs, 1, 'the expired request never ran');
  } finally {
    client.raw.destroy();
    await server.close();
  }
});

test('100,000 cancels for ids that are not in flight are ignored; the connection keeps serving', async () => {
  const { server, client } = await session();
  try {
    for (let sent = 0; sent < 100_000; sent += 4_000) {
      const entries = Array.from({ length: 4_000 }, (_, i) => cancelEntry(sent + i));
      await client.raw.write(client.sealMessages(...entries));
    }
    await client.sendMessages(Buffer.concat([callHead({ budgetMs: 5_000 }), request(1, 'counter.bump')]));
    const [reply] = await replies(client, 1);
    assert.deepEqual(reply!.result, { runs: 1, hasDeadline: true });
    assert.equal(server.connectionCount, 1);
  } finally {
    client.raw.destroy();
    await server.close();
  }
});

test('a request cancelled while it waits for a slot is never started (-32006); the others run', async () => {
  const { server, client, counter } = await session(1);
  try {
    // 1 blocks the only slot; 2 waits behind it and is cancelled; 3 waits and runs.
    await client.sendMessages(
      Buffer.concat([callHead({ budgetMs: 60_000 }), request(1, 'counter.block')]),
      Buffer.concat([callHead({ budgetMs: 60_000 }), request(2, 'counter.bump')]),
      Buffer.concat([callHead({ budgetMs: 60_000 }), request(3, 'counter.bump')]),
      cancelEntry(2),
    );
    while (counter.runs === 0) await new Promise((resolve) => setImmediate(resolve));
    counter.gate.open();
    const got = await replies(client, 3);
    const byId = new Map(got.map((r) => [r.id, r]));
    assert.equal(byId.get(1)!.result, 'released');
    assert.equal(byId.get(2)!.error.code, rpcErrorCodes.CANCELLED);
    assert.deepEqual(byId.get(3)!.result, { runs: 2, hasDeadline: true });
    assert.equal(counter.runs, 2, 'the cancelled request never ran');
  } finally {
    client.raw.destroy();
    await server.close();
  }
});

test('a request whose budget runs out while it waits for a slot is never started (-32004)', async () => {
  const { server, client, counter } = await session(1);
  try {
    await client.sendMessages(
      Buffer.concat([callHead({ budgetMs: 60_000 }), request(1, 'counter.block')]),
      Buffer.concat([callHead({ budgetMs: 30 }), request(2, 'counter.bump')]),
    );
    while (counter.runs === 0) await new Promise((resolve) => setImmediate(resolve));
    // Not a guess: the only condition is that the 30 ms budget is spent before the slot frees up.
    const spent = performance.now() + 40;
    while (performance.now() < spent) await new Promise((resolve) => setTimeout(resolve, 10));
    counter.gate.open();
    const byId = new Map((await replies(client, 2)).map((r) => [r.id, r]));
    assert.equal(byId.get(1)!.result, 'released');
    assert.equal(byId.get(2)!.error.code, rpcErrorCodes.DEADLINE_EXCEEDED);
    assert.equal(counter.runs, 1, 'the expired request never ran');
  } finally {
    client.raw.destroy();
    await server.close();
  }
});
