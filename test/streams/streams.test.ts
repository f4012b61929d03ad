// Server streams end to end over real sockets: an async generator method on a GawServer iterated
// by a GawClient (for await), with items through the serializable registry, flow control by the
// window, and each way a stream can end: normally, an error mid-stream, the consumer breaking
// out, the deadline, and a peer without the extension.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { Remote } from '../../src/client/index.js';
import { GawServer, entrypoint } from '../../src/server/index.js';
import { RemoteError, ServiceError, TimeoutError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { serializable } from '../../src/serializable/index.js';
import { callContext } from '../../src/context.js';
import { Gate, makeSecret, until } from '../helpers/server-fixtures.js';

@serializable('stream_test.Row')
class Row {
  constructor(
    public id = 0,
    public name = '',
  ) {}
}

/** What the producers did, for the tests to compare with what the consumers saw. */
const seen = { steps: 0, finallyRan: 0, finallyAt: 0 };
const finallyGate = { gate: new Gate() };

class DbService {
  static serviceName = 'db';

  @entrypoint
  async *scan(count: number): AsyncGenerator<Row, string> {
    for (let i = 0; i < count; i++) yield new Row(i, `row ${i}`);
    return `scanned ${count}`;
  }

  @entrypoint
  async *counted(count: number): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        seen.steps++;
        yield i;
      }
    } finally {
      seen.finallyRan++;
      seen.finallyAt = performance.now();
      finallyGate.gate.open();
    }
  }

  @entrypoint
  async *failAfter(count: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) yield i;
    throw new ServiceError(4711, 'the scan broke', { at: count });
  }

  @entrypoint
  async *slow(count: number): AsyncGenerator<number> {
    for (let i = 0; i < count; i++) {
      yield i;
      const signal = callContext()?.signal;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(new Error('aborted'));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, 20);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  @entrypoint
  plain(): number {
    return 42;
  }
}

/** Compile-time: an async generator method is typed as a method returning AsyncIterable of its items. */
export function streamTypes(db: Remote<DbService>): void {
  const rows: AsyncIterable<Row> = db.scan(3);
  void rows;
  // @ts-expect-error: a stream is iterated, not awaited for a Row
  const one: Promise<Row> = db.scan(3);
  void one;
  // @ts-expect-error: the items are Rows, not strings
  const wrong: AsyncIterable<string> = db.scan(3);
  void wrong;
  const answer: Promise<number> = db.plain();
  void answer;
}

async function withServer(
  run: (client: GawClient, server: GawServer) => Promise<void>,
  clientOptions: ConstructorParameters<typeof GawClient>[0] = {},
  serverOptions: ConstructorParameters<typeof GawServer>[0] = {},
): Promise<void> {
  const secret = makeSecret();
  const server = new GawServer({ port: 0, secret, encrypt: true, ...serverOptions }).add(DbService);
  await server.listen();
  const client = new GawClient({ port: server.address.port, secret, encrypt: true, ...clientOptions });
  try {
    await run(client, server);
  } finally {
    await client.close();
    await server.close();
  }
}

test('a typed proxy iterates an async generator method: every item in order, revived through the registry', {
  timeout: 30_000,
}, async () => {
  await withServer(async (client) => {
    const db = client.service<DbService>('db');
    const rows: Row[] = [];
    for await (const row of db.scan(100)) rows.push(row);
    assert.equal(rows.length, 100);
    assert.ok(rows[7] instanceof Row);
    assert.deepEqual(rows[7], new Row(7, 'row 7'));
    // The same method through client.stream, with its return value; and a unary call still works.
    const stream = client.stream<Row>('db.scan', [3]);
    const again: number[] = [];
    for await (const row of stream) again.push(row.id);
    assert.deepEqual(again, [0, 1, 2]);
    assert.equal(stream.returnValue, 'scanned 3');
    assert.equal(await db.plain(), 42);
    // An empty stream ends at once.
    for await (const _ of db.scan(0)) assert.fail('no item expected');
  });
});

test('an error after 5 items: the loop gets the 5 items, then throws a RemoteError with the code and data', {
  timeout: 30_000,
}, async () => {
  await withServer(async (client) => {
    const got: number[] = [];
    await assert.rejects(
      async () => {
        for await (const n of client.service<DbService>('db').failAfter(5)) got.push(n);
      },
      (err: unknown) => {
        assert.ok(err instanceof RemoteError);
        assert.equal(err.rpcCode, 4711);
        assert.equal(err.message, 'the scan broke');
        assert.deepEqual(err.data, { at: 5 });
        return true;
      },
    );
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
  });
});

test("breaking out after 3 items runs the server generator's finally within one round trip", {
  timeout: 30_000,
}, async () => {
  await withServer(
    async (client) => {
      seen.finallyRan = 0;
      finallyGate.gate = new Gate();
      const got: number[] = [];
      for await (const n of client.service<DbService>('db').counted(1_000_000)) {
        got.push(n);
        if (got.length === 3) break;
      }
      // The break sent a CANCEL; a ping sent right after it on the same (only) connection comes
      // back one round trip later, and by then the generator's finally has run.
      assert.equal(await client.call('rpc.ping'), 'pong');
      assert.deepEqual(got, [0, 1, 2]);
      assert.equal(seen.finallyRan, 1, "the generator's finally ran within one round trip of the break");
      // The connection stays usable for more streams.
      const more: number[] = [];
      for await (const row of client.service<DbService>('db').scan(2)) more.push(row.id);
      assert.deepEqual(more, [0, 1]);
    },
    { poolSize: 1 },
  );
});

test('a consumer 10x slower than the producer pauses the producer: its steps stay within the window of what was consumed', {
  timeout: 30_000,
}, async () => {
  await withServer(async (client) => {
    seen.steps = 0;
    const window = 8;
    let consumed = 0;
    let maxAhead = 0;
    for await (const _ of client.service<DbService>('db').counted.with({ streamWindow: window })(200)) {
      consumed++;
      maxAhead = Math.max(maxAhead, seen.steps - consumed);
      // The consumer waits a timer turn per item; the producer makes an item in a microtask.
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (consumed === 60) break;
    }
    assert.equal(consumed, 60);
    // The producer ran at most one window (plus the item being made) ahead of the consumer.
    assert.ok(maxAhead <= window + 1, `the producer ran ${maxAhead} steps ahead with a window of ${window}`);
    assert.ok(maxAhead >= window / 2, `the producer ran only ${maxAhead} steps ahead: it was never the faster side`);
    assert.ok(seen.steps <= 60 + window + 1, `the producer made ${seen.steps} items for 60 consumed`);
  });
});

test('the deadline mid-stream: the loop throws a timeout and the server generator stops', {
  timeout: 30_000,
}, async () => {
  await withServer(async (client) => {
    const got: number[] = [];
    const started = performance.now();
    await assert.rejects(
      async () => {
        for await (const n of client.service<DbService>('db').slow.with({ timeoutMs: 300 })(1000)) got.push(n);
      },
      (err: unknown) => {
        assert.ok(err instanceof TimeoutError, String(err));
        assert.equal(err.code, 'GAW_ERR_CALL_TIMEOUT');
        return true;
      },
    );
    assert.ok(got.length >= 1 && got.length < 1000, `${got.length} items before the deadline`);
    assert.ok(performance.now() - started < 5_000);
    await until(() => client.pendingCount === 0, 'the stream forgotten by the client');
  });
});

test('a streaming method called as a single call, or a unary method iterated, gets -32020 stream mismatch', {
  timeout: 30_000,
}, async () => {
  await withServer(async (client) => {
    await assert.rejects(client.call('db.scan', [3]), (err: unknown) => {
      assert.ok(err instanceof RemoteError);
      assert.equal(err.rpcCode, rpcErrorCodes.STREAM_MISMATCH);
      assert.match(err.message, /streams its result/);
      return true;
    });
    await assert.rejects(
      async () => {
        for await (const _ of client.stream('db.plain')) assert.fail('no item expected');
      },
      (err: unknown) => err instanceof RemoteError && err.rpcCode === rpcErrorCodes.STREAM_MISMATCH,
    );
  });
});

test('a server without the stream extension: iterating fails with -32020 naming it, unary calls still work', {
  timeout: 30_000,
}, async () => {
  await withServer(
    async (client) => {
      await assert.rejects(
        async () => {
          for await (const _ of client.service<DbService>('db').scan(3)) assert.fail('no item expected');
        },
        (err: unknown) => {
          assert.ok(err instanceof RemoteError);
          assert.equal(err.rpcCode, rpcErrorCodes.STREAM_MISMATCH);
          assert.match(err.message, /does not speak the stream extension/);
          return true;
        },
      );
      assert.equal(await client.service<DbService>('db').plain(), 42);
    },
    {},
    { streams: false },
  );
});
