// Strangers exhausting file descriptors through the HTTP bridge (issue 13, defect 2): a real child
// server under `ulimit -n 256`, hundreds of half-sent POST /api requests from raw sockets, and a
// GawClient call to the encrypted GAWP port that must still succeed, well before the bridge's
// timeouts would free anything. Then the bridge serves again once the attackers are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { GawClient } from '../../src/client/index.js';
import { makeSecret, until, within } from '../helpers/server-fixtures.js';
import { startFdChild } from './helpers/fd-child.js';
import type { FdChild } from './helpers/fd-child.js';

const maxFiles = 256;

/** Half of them stop inside the headers, half inside the body. */
function halfSent(index: number): string {
  const head = 'POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n';
  return index % 2 === 0 ? head : `${head}Content-Length: 1000\r\n\r\n{"jsonrpc":"2.0",`;
}

interface Flood {
  sockets: Socket[];
  /** Sockets the server closed (or never accepted) so far. */
  closed(): number;
  destroy(): void;
}

/** Opens `count` sockets to `port`, each sending a half request; resolves once every one connected or failed. */
async function flood(port: number, count: number): Promise<Flood> {
  const sockets: Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          sockets.push(socket);
          socket.on('error', () => {});
          socket.once('close', () => {
            closed++;
            resolve();
          });
          socket.once('connect', () => {
            socket.write(halfSent(i));
            resolve();
          });
        }),
    ),
  );
  return {
    sockets,
    closed: () => closed,
    destroy: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

async function callGawp(child: FdChild, secret: string): Promise<unknown> {
  const client = new GawClient({ host: '127.0.0.1', port: child.port, secret, encrypt: true, timeoutMs: 4_000 });
  try {
    return await client.call('label.echo', ['still here']);
  } finally {
    await client.close();
  }
}

/** A POST /api from a fresh connection: the status, or the error code when the connection failed. */
function postOnce(port: number): Promise<string> {
  const body = '{"jsonrpc":"2.0","id":1,"method":"label.whoami"}';
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (data) => {
      text += data.toString('latin1');
      if (text.endsWith('}')) socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('close', () => resolve(text.slice(9, 12) || 'closed'));
    socket.write(
      `POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
  });
}

async function attackAndCall(options: Record<string, unknown>, attackers: number): Promise<void> {
  const secret = makeSecret();
  const child = await startFdChild(
    maxFiles,
    { http: { port: 0, isOpen: true, bodyTimeoutMs: 30_000, ...options } },
    secret,
  );
  let attack: Flood | undefined;
  try {
    attack = await within(flood(child.httpPort, attackers), 20_000, 'the flood connecting');
    const startMs = Date.now();
    assert.equal(await within(callGawp(child, secret), 10_000, 'the GAWP call'), 'still here');
    const callMs = Date.now() - startMs;
    assert.ok(callMs < 8_000, `the GAWP call took ${callMs} ms`);
    // A second connection to the GAWP port while the flood still holds its sockets.
    assert.equal(await within(callGawp(child, secret), 10_000, 'the second GAWP call'), 'still here');
    attack.destroy();
    // Once the attackers leave, the bridge answers again (a paused listener resumes).
    await until(() => attack!.closed() === attackers, 'the attack sockets closing', 10_000);
    let status = '';
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && status !== '200'; ) {
      status = await postOnce(child.httpPort);
      if (status !== '200') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, '200', 'the bridge serves again after the flood');
    assert.equal(child.child.exitCode, null, `the child is still running: ${child.stderr()}`);
  } finally {
    if (process.env.GAW_FD_CHILD_DEBUG) process.stderr.write(child.stderr());
    attack?.destroy();
    child.child.kill('SIGKILL');
    await child.exited;
  }
}

test('under ulimit -n 256, 600 half-sent POST /api requests leave the GAWP port serving (the bridge caps its connections)', async () => {
  await attackAndCall({}, 600);
});

test('when the bridge itself runs out of descriptors (a cap above the limit), it pauses and makes room, and the GAWP port keeps serving', async () => {
  await attackAndCall({ maxConnections: 10_000 }, 600);
});
