#!/usr/bin/env node
// `npm run soak:streams` (after `npm run build`): the 1 GiB run of the stream memory bound,
// kept out of `npm test` because it takes a minute or more on a loaded machine. Streams 1 GiB (or
// --mib N) in 64 KiB items from a child-process server through suite cbc and fails (exit 1) when
// either side's resident set grew by 64 MiB or more. The suite runs the same check on 128 MiB.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const helper = path.join(root, 'dist/test/streams/bulk.js');
if (!existsSync(helper)) {
  console.error('not built: dist/test/streams/bulk.js (run npm run build first)');
  process.exit(2);
}
const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' } } });
const mib = Number(values.mib);
if (!Number.isInteger(mib) || mib < 16) {
  console.error(`--mib must be an integer of at least 16, not ${JSON.stringify(values.mib)}`);
  process.exit(2);
}
const MiB = 1024 * 1024;
const limitBytes = 64 * MiB;
const { streamBulk } = await import(pathToFileURL(helper).href);
const result = await streamBulk(mib * MiB, 64 * 1024);
const show = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`;
console.log(
  `${show(result.bytes)} in ${result.items} items of 64 KiB in ${result.seconds.toFixed(1)} s ` +
    `(${(result.bytes / MiB / result.seconds).toFixed(0)} MiB/s); RSS growth: server ${show(result.serverGrowthBytes)}, ` +
    `client ${show(result.clientGrowthBytes)} (limit ${show(limitBytes)} each)`,
);
const problems = [];
if (result.bytes !== mib * MiB) problems.push(`streamed ${result.bytes} bytes, not ${mib * MiB}`);
if (result.serverGrowthBytes >= limitBytes) problems.push(`the server grew ${show(result.serverGrowthBytes)}`);
if (result.clientGrowthBytes >= limitBytes) problems.push(`the client grew ${show(result.clientGrowthBytes)}`);
if (problems.length > 0) {
  console.error(`FAILED: ${problems.join('; ')}`);
  process.exit(1);
}
console.log('ok');
