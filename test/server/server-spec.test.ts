// Every case of test/fixtures/jsonrpc-spec-examples.json over a real GAWP/1 connection to a
// GawServer, in both codecs and in the none and cbc suites. A raw client sends each case's exact
// bytes (invalid JSON included); a case that expects no reply is checked with a follow-up call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecService, assertSpecReply, specCases } from './spec-helpers.js';
import { RawClient, makeSecret, startServer } from '../helpers/server-fixtures.js';
import type { CodecName, SuiteName } from '../../src/postoffice/index.js';

const followUp = { jsonrpc: '2.0', method: 'get_data', id: 'follow-up' };

for (const suite of ['none', 'cbc'] as const satisfies readonly SuiteName[]) {
  for (const codec of ['json', 'msgpack'] as const satisfies readonly CodecName[]) {
    test(`every JSON-RPC spec example gets the specified reply over ${suite}/${codec}`, async () => {
      const secret = suite === 'none' ? undefined : makeSecret();
      const server = await startServer({ ...(secret !== undefined && { secret, encrypt: true }) }, SpecService);
      const client = await RawClient.open(server.address.port, { codec, ...(secret !== undefined && { secret }) });
      assert.equal(client.connection.suite, suite);
      assert.equal(client.connection.codec, codec);
      try {
        SpecService.notified.length = 0;
        for (const specCase of specCases) {
          if (specCase.request_raw !== undefined) client.send(Buffer.from(specCase.request_raw, 'utf8'));
          else if (codec === 'json') client.send(Buffer.from(JSON.stringify(specCase.request), 'utf8'));
          else client.send(specCase.request);
          if (specCase.expect === 'no_response') {
            client.send(followUp);
            const reply = await client.next();
            assert.deepEqual(
              reply,
              { jsonrpc: '2.0', id: 'follow-up', result: ['hello', 5] },
              `case ${specCase.id}: the next reply must be the follow-up's, not an answer to the notification`,
            );
          } else {
            assertSpecReply(await client.next(), specCase);
          }
        }
        assert.deepEqual(SpecService.notified, [
          'update [1,2,3,4,5]',
          'notify_hello [7]',
          'notify_sum [1,2,4]',
          'notify_hello [7]',
        ]);
      } finally {
        await client.close();
        await server.close();
      }
    });
  }
}
