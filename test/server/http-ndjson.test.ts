// A streaming method over the HTTP bridge: answered as NDJSON (one {"item": v} line per item, then
// the JSON-RPC response) when the caller sends Accept: application/x-ndjson; a clear -32020 error
// otherwise. Real bridge on 127.0.0.1 port 0, real HTTP clients; a caller that hangs up mid-stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { entrypoint } from '../../src/server/index.js';
import { ServiceError } from '../../src/errors.js';
import { rpcErrorCodes } from '../../src/jsonrpc/index.js';
import { within } from '../helpers/server-fixtures.js';
import { postJson, startBridge } from './http-helpers.js';

let stopped: () => void = () => {};
let steps = 0;

class Rows {
  static serviceName = 'rows';

  @entrypoint
  async *count(n: number): AsyncGenerator<{ i: number }, string> {
    for (let i = 0; i < n; i++) yield { i };
    return `counted ${n}`;
  }

  @entrypoint
  async *failing(after: number): AsyncGenerator<number> {
    for (let i = 0; i < after; i++) yield i;
    throw new ServiceError(-32050, 'ran out of rows', { after });
  }

  @entrypoint
  async *endless(): AsyncGenerator<string> {
    try {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        yield 'x'.repeat(1024);
      }
    } finally {
      stopped();
    }
  }

  /** 64 KiB items until stopped, counting the generator's steps (the backpressure test reads it). */
  @entrypoint
  async *big(): AsyncGenerator<string> {
    const item = 'y'.repeat(64 * 1024);
    try {
      for (;;) {
        steps++;
        yield item;
      }
    } finally {
      stopped();
    }
  }

  @entrypoint
  plain(): string {
    return 'not a stream';
  }
}

const ndjson = { Accept: 'application/x-ndjson' };

async function withBridge(run: (port: number) => Promise<void>): Promise<void> {
  const { bridge, port, dispatcher } = await startBridge([Rows], {
    dispatch: (message, origin) => dispatcher.dispatchEager(message, origin),
  });
  try {
    await run(port);
  } finally {
    await bridge.close();
  }
}

function lines(body: string): unknown[] {
  assert.ok(body.endsWith('\n'), 'the reply ends with a newline');
  return body
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line));
}

test('with Accept: application/x-ndjson a stream is one item line per item, then the JSON-RPC response', {
  timeout: 30_000,
}, async () => {
  await withBridge(async (port) => {
    const reply = await postJson(
      port,
      { jsonrpc: '2.0', id: 7, method: 'rows.count', params: [3] },
      { headers: ndjson },
    );
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/x-ndjson');
    assert.equal(reply.headers['content-length'], undefined);
    assert.deepEqual(lines(reply.body), [
      { item: { i: 0 } },
      { item: { i: 1 } },
      { item: { i: 2 } },
      { jsonrpc: '2.0', id: 7, result: 'counted 3' },
    ]);
  });
});

test('an error after 2 items: the 2 item lines, then the error response with its code and data', {
  timeout: 30_000,
}, async () => {
  await withBridge(async (port) => {
    const reply = await postJson(
      port,
      { jsonrpc: '2.0', id: 1, method: 'rows.failing', params: [2] },
      { headers: ndjson },
    );
    assert.deepEqual(lines(reply.body), [
      { item: 0 },
      { item: 1 },
      { jsonrpc: '2.0', id: 1, error: { code: -32050, message: 'ran out of rows', data: { after: 2 } } },
    ]);
  });
});

test('a stream asked for without NDJSON, or inside a batch, gets -32020 naming application/x-ndjson', {
  timeout: 30_000,
}, async () => {
  await withBridge(async (port) => {
    const reply = await postJson(port, { jsonrpc: '2.0', id: 1, method: 'rows.count', params: [3] });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json');
    const parsed = JSON.parse(reply.body) as { error: { code: number; message: string } };
    assert.equal(parsed.error.code, rpcErrorCodes.STREAM_MISMATCH);
    assert.match(parsed.error.message, /rows\.count streams its result.*application\/x-ndjson/);
    const batch = await postJson(port, [{ jsonrpc: '2.0', id: 2, method: 'rows.count', params: [3] }], {
      headers: ndjson,
    });
    assert.equal(batch.headers['content-type'], 'application/json');
    const [element] = JSON.parse(batch.body) as { error: { code: number } }[];
    assert.equal(element?.error.code, rpcErrorCodes.STREAM_MISMATCH);
  });
});

test('a method that does not stream answers plain JSON even when NDJSON is accepted', { timeout: 30_000 }, async () => {
  await withBridge(async (port) => {
    const reply = await postJson(
      port,
      { jsonrpc: '2.0', id: 3, method: 'rows.plain' },
      { headers: { Accept: 'application/x-ndjson, application/json' } },
    );
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(reply.body), { jsonrpc: '2.0', id: 3, result: 'not a stream' });
  });
});

test("a caller that hangs up mid-stream stops the server's generator (its finally runs)", {
  timeout: 30_000,
}, async () => {
  await withBridge(async (port) => {
    const finallyRan = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const firstItem = new Promise<string>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api',
          agent: false,
          headers: { 'Content-Type': 'application/json', ...ndjson },
        },
        (res) => {
          res.once('data', (chunk: Buffer) => {
            resolve(chunk.toString('utf8'));
            req.destroy();
          });
        },
      );
      req.on('error', () => {});
      req.once('error', reject);
      req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rows.endless' }));
    });
    assert.match(await within(firstItem, 10_000, 'the first item'), /^\{"item":"x+"/);
    await within(finallyRan, 10_000, "the generator's finally");
  });
});

test('the deadline (Gaw-Timeout-Ms) mid-stream ends it with a -32004 response line and stops the generator', {
  timeout: 30_000,
}, async () => {
  await withBridge(async (port) => {
    const finallyRan = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    const reply = await postJson(
      port,
      { jsonrpc: '2.0', id: 9, method: 'rows.endless' },
      { headers: { ...ndjson, 'Gaw-Timeout-Ms': '200' } },
    );
    const all = lines(reply.body);
    assert.ok(all.length > 1, 'items arrived before the deadline');
    const last = all.at(-1) as { id: number; error: { code: number } };
    assert.equal(last.id, 9);
    assert.equal(last.error.code, rpcErrorCodes.DEADLINE_EXCEEDED);
    await within(finallyRan, 10_000, "the generator's finally");
  });
});

test('a caller that stops reading stops the producer (write() said false); reading again resumes it', {
  timeout: 60_000,
}, async () => {
  await withBridge(async (port) => {
    steps = 0;
    const finallyRan = new Promise<void>((resolve) => {
      stopped = resolve;
    });
    let received = 0;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api',
      agent: false,
      headers: { 'Content-Type': 'application/json', ...ndjson },
    });
    req.on('error', () => {});
    const response = new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rows.big' }));
    const res = await within(response, 10_000, 'the response');
    res.pause();
    // Poll with a deadline until the producer holds still: an unbounded producer never does.
    const stillAt = async (): Promise<number> => {
      let last = -1;
      let same = 0;
      const deadline = performance.now() + 20_000;
      while (same < 5) {
        assert.ok(performance.now() < deadline, `the producer kept going (${steps} steps)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        same = steps === last ? same + 1 : 0;
        last = steps;
      }
      return last;
    };
    const paused = await stillAt();
    // The response's buffer, the sockets' and the kernel's: megabytes at most, not an endless stream.
    assert.ok(paused * 64 * 1024 < 64 * 1024 * 1024, `${paused} items were made while nobody read`);
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    res.resume();
    const deadline = performance.now() + 20_000;
    while (steps < paused + 50) {
      assert.ok(performance.now() < deadline, 'the producer resumed when the caller read again');
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(received > 0);
    req.destroy();
    await within(finallyRan, 10_000, "the generator's finally");
  });
});
