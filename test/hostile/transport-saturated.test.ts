// A peer that saturates its connection and then leaves: every in-flight slot held by a handler that
// does not return, megabytes of requests queued behind them, then the socket destroyed. The server
// must notice at once (it keeps reading while at the cap), forget the connection, drop the late
// results of its handlers, and close() without waiting for closeTimeoutMs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawpClient } from '../helpers/gawp-peer.js';
import { until, within } from '../helpers/server-fixtures.js';
import { MAX_MESSAGES_PER_FRAME } from '../../src/postoffice/frame.js';
import { Bystander, checkServes, executions, holdWaits, startVictim } from './helpers/victim.js';

const timeout = 30_000;

test('a peer holding all 256 slots with 300 requests of 60 KB queued behind them, then destroying its socket, is forgotten at once; its late results are dropped and close() does not wait', {
  timeout,
}, async () => {
  const idleTimeoutMs = 20_000;
  const closeTimeoutMs = 20_000;
  const victim = await startVictim({ encrypt: true, idleTimeoutMs, closeTimeoutMs });
  const bystander = new Bystander(victim);
  try {
    await bystander.start();
    const { gate, arrivals, returned } = holdWaits(256);
    const peer = await GawpClient.handshake(victim.port, victim.psk, { suite: victim.suite });
    await until(() => victim.server.connectionCount === 2, 'the server attaching the peer');
    const holders: string[] = [];
    for (let id = 1; id <= 256; id++)
      holders.push(`{"jsonrpc":"2.0","id":${id},"method":"victim.wait","params":[${id}]}`);
    for (let start = 0; start < holders.length; start += MAX_MESSAGES_PER_FRAME)
      peer.raw.socket.write(peer.sealMessages(...holders.slice(start, start + MAX_MESSAGES_PER_FRAME)));
    const filler = 'x'.repeat(60_000);
    for (let id = 1_000; id < 1_300; id++)
      peer.raw.socket.write(
        peer.sealMessages(`{"jsonrpc":"2.0","id":${id},"method":"victim.echo","params":["${filler}"]}`),
      );
    await within(arrivals.all, 10_000, 'the 256 handlers starting');
    const leftAt = Date.now();
    peer.raw.socket.destroy();
    await until(() => victim.server.connectionCount === 1, 'the server forgetting the peer', 3_000);
    assert.ok(Date.now() - leftAt < idleTimeoutMs / 4, 'forgotten long before the idle timeout');
    assert.equal(executions.get('echo') ?? 0, 0, 'nothing queued behind the slots ran');
    // The handlers finish after the peer left: their results are dropped without a send error.
    gate.open();
    await within(returned.all, 5_000, 'the 256 handlers returning');
    await checkServes(victim);
    assert.equal(
      victim.logs.filter((line) => /could not be sent/.test(line.msg)).length,
      0,
      'no reply was sent to the peer that left',
    );
    const closing = Date.now();
    await bystander.stop(2);
    await victim.close();
    assert.ok(Date.now() - closing < closeTimeoutMs / 4, `close() took ${Date.now() - closing} ms`);
  } finally {
    await bystander.stop(2);
    await victim.close();
  }
});
