// GawServer's option bags refuse a key they do not know, naming the nearest known one, as the
// client's do: `{ maxInflight: 8 }` would otherwise run with the default cap without a word.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawServer } from '../../src/server/index.js';
import type { GawServerOptions } from '../../src/server/index.js';

test('a misspelt server, http, legacy or httpHandler() option is a UsageError naming the nearest one', () => {
  const bad = (options: object) => () => new GawServer(options as GawServerOptions);
  assert.throws(bad({ maxInflight: 8 }), {
    name: 'UsageError',
    message: 'GawServer options have no option "maxInflight"; did you mean maxInFlight?',
  });
  assert.throws(bad({ http: { port: 0, tokn: 'x' } }), {
    message: /http options have no option "tokn"; did you mean token\?/,
  });
  assert.throws(bad({ legacy: { prot: 1 } }), { message: /legacy options have no option "prot"; did you mean port\?/ });
  const server = new GawServer({
    port: 0,
    maxWaitingBytes: 1024,
    callContext: true,
    http: { port: 0, maxConnections: 10 },
  });
  assert.throws(() => server.httpHandler({ maxBodyByte: 5 } as object), { message: /did you mean maxBodyBytes\?/ });
  assert.equal(typeof server.httpHandler({ maxBodyBytes: 5 }), 'function');
});
