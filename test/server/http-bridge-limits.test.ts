// The HTTP bridge's limits over raw sockets: bodies over the cap get 413 without being read or
// buffered (declared or chunked), slow bodies and slow headers are timed out and closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { entrypoint } from '../../src/server/service.js';
import { assertRefusal, postJson, request, startBridge } from './http-helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

class Echo {
  static serviceName = 'echo';
  @entrypoint echo(value: unknown) {
    return value;
  }
}

/** What the server answered on a raw socket, read until the server closed it. */
interface RawResult {
  response: string;
  bytesSent: number;
}

const mib = 1024 * 1024;

/** Asserts a raw HTTP response is a refusal with `status` and a JSON-RPC error body (id null). */
function assertRawRefusal(response: string, status: number, message: RegExp): void {
  assert.match(response, new RegExp(`^HTTP/1\\.1 ${status} `));
  const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as {
    id: unknown;
    error: { code: number; message: string };
  };
  assert.equal(body.id, null);
  assert.equal(body.error.code, -32600);
  assert.match(body.error.message, message);
}
const chunk = Buffer.alloc(64 * 1024, 0x20);

/** Sends a POST /api with a body of `totalBytes` (declared or chunked) until done or the server closes. */
function sendLargeBody(
  port: number,
  totalBytes: number,
  isChunked: boolean,
  waitForResponse: boolean,
): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    let bytesSent = 0;
    socket.on('error', () => {});
    socket.on('close', () => resolve({ response, bytesSent }));
    const pump = (): void => {
      while (bytesSent < totalBytes && !socket.destroyed) {
        bytesSent += chunk.length;
        if (isChunked) socket.write(`${chunk.length.toString(16)}\r\n`);
        let isFlushed = socket.write(chunk);
        if (isChunked) isFlushed = socket.write('\r\n');
        if (!isFlushed) {
          socket.once('drain', pump);
          return;
        }
      }
      if (isChunked && !socket.destroyed) socket.write('0\r\n\r\n');
    };
    socket.on('data', (data) => {
      response += data.toString('latin1');
      if (waitForResponse && response.includes('\r\n\r\n')) socket.end();
    });
    const length = isChunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${totalBytes}`;
    socket.write(`POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${length}\r\n\r\n`);
    if (!waitForResponse) pump();
  });
}

/** Runs `work` while sampling heap and buffer memory; returns the peak growth in bytes. */
async function peakGrowth(work: () => Promise<void>): Promise<{ peak: number; after: number }> {
  gc();
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const base = used();
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, used() - base);
  }, 2);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, used() - base);
  gc();
  return { peak, after: used() - base };
}

test('a declared Content-Length over the cap gets 413 before any of the body is sent', async () => {
  const { bridge, port } = await startBridge([Echo]);
  try {
    const result = await sendLargeBody(port, 10 * mib, false, true);
    assert.equal(result.bytesSent, 0);
    assertRawRefusal(result.response, 413, /larger than 1048576 bytes/);
    assert.match(result.response, /\r\nconnection: close\r\n/i);
  } finally {
    await bridge.close();
  }
});

test('a 10 MiB body is refused with 413, the connection closed, and memory stays flat', async () => {
  const { bridge, port } = await startBridge([Echo]);
  try {
    for (const isChunked of [false, true]) {
      let result: RawResult | undefined;
      const growth = await peakGrowth(async () => {
        result = await sendLargeBody(port, 10 * mib, isChunked, false);
      });
      const label = isChunked ? 'chunked' : 'declared';
      assert.match(result!.response, /^HTTP\/1\.1 413 /, label);
      assert.ok(
        result!.bytesSent < 10 * mib,
        `${label}: the server closed before the whole body was sent (${result!.bytesSent})`,
      );
      assert.ok(growth.peak < 6 * mib, `${label}: memory grew by ${(growth.peak / mib).toFixed(1)} MiB at peak`);
      assert.ok(growth.after < 2 * mib, `${label}: ${(growth.after / mib).toFixed(1)} MiB kept after the request`);
    }
  } finally {
    await bridge.close();
  }
});

test('maxBodyBytes is the exact cap', async () => {
  const { bridge, port } = await startBridge([Echo], { maxBodyBytes: 100 });
  try {
    const body = (size: number): string => {
      const head = '{"jsonrpc":"2.0","id":1,"method":"echo","params":["';
      const tail = '"]}';
      return head + 'x'.repeat(size - head.length - tail.length) + tail;
    };
    assert.equal((await postJson(port, body(100))).status, 200);
    assertRefusal(await postJson(port, body(101)), 413, -32600, /larger than 100 bytes/);
  } finally {
    await bridge.close();
  }
});

/** Writes `text` and then nothing more; resolves with everything the server sent once it closed the socket. */
function sendAndStall(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (data) => {
      response += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(response));
    socket.write(text);
  });
}

test('a body that stops arriving is timed out with a JSON-RPC 408 and the connection closed', async () => {
  const { bridge, port } = await startBridge([Echo], { bodyTimeoutMs: 200 });
  try {
    const response = await sendAndStall(
      port,
      'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc"',
    );
    assertRawRefusal(response, 408, /did not arrive within 200 ms/);
  } finally {
    await bridge.close();
  }
});

test('headers that never finish are timed out with 408 and the connection closed', async () => {
  const { bridge, port } = await startBridge([Echo], { bodyTimeoutMs: 200 });
  try {
    assert.match(await sendAndStall(port, 'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\n'), /^HTTP\/1\.1 408 /);
  } finally {
    await bridge.close();
  }
});

test('a refused request that still has an unread body closes its connection instead of reading it', async () => {
  const { bridge, port } = await startBridge([Echo], { token: 'token' });
  try {
    const refused = await request(port, { headers: { 'Content-Type': 'application/json' }, body: '{"jsonrpc":"2.0"}' });
    assert.equal(refused.status, 401);
    const unread = await sendLargeBody(port, 4 * mib, false, false);
    assert.match(unread.response, /^HTTP\/1\.1 401 /);
    assert.match(unread.response, /\r\nconnection: close\r\n/i);
  } finally {
    await bridge.close();
  }
});

/** Sends headers with Expect: 100-continue and returns what the server answers before any body. */
function expectContinue(port: number, headers: string): Promise<{ first: string; socket: net.Socket }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('data', (data) => resolve({ first: data.toString('latin1'), socket }));
    socket.on('error', () => {});
    socket.write(`POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n${headers}\r\n`);
  });
}

test('with Expect: 100-continue, a request the headers already refuse never invites the body', async () => {
  const { bridge, port } = await startBridge([Echo], { token: 'tok' });
  try {
    const tooLarge = await expectContinue(
      port,
      `Authorization: Bearer tok\r\nContent-Type: application/json\r\nContent-Length: ${10 * mib}\r\n`,
    );
    assert.match(tooLarge.first, /^HTTP\/1\.1 413 /);
    tooLarge.socket.destroy();
    const noToken = await expectContinue(port, 'Content-Type: application/json\r\nContent-Length: 10\r\n');
    assert.match(noToken.first, /^HTTP\/1\.1 401 /);
    noToken.socket.destroy();
    const body = '{"jsonrpc":"2.0","id":1,"method":"echo","params":[5]}';
    const accepted = await expectContinue(
      port,
      `Authorization: Bearer tok\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`,
    );
    assert.match(accepted.first, /^HTTP\/1\.1 100 Continue/);
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      accepted.socket.on('data', (data) => {
        text += data.toString('latin1');
        if (text.endsWith('}')) resolve(text);
      });
      accepted.socket.write(body);
    });
    assert.match(reply, /^HTTP\/1\.1 200 [\s\S]*\{"jsonrpc":"2.0","id":1,"result":5\}$/);
    accepted.socket.destroy();
  } finally {
    await bridge.close();
  }
});
