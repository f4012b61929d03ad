// A durable consumer in a process of its own, for tests that SIGKILL it mid-handler: joins group
// `workers` of event `job`, and for each event appends `start <n> <deliveries>` to its file, waits
// the event's `ms`, then appends `done <n> <deliveries>`. Says `ready` over IPC once subscribed.
import { appendFileSync } from 'node:fs';
import { GawEvents } from '../../src/index.js';
import type { DeliveryMeta } from '../../src/index.js';

const [url, namespace, outFile, visibilityMs] = process.argv.slice(2);
const bus = new GawEvents({
  url: url!,
  namespace: namespace!,
  secret: process.env.GAW_TEST_SECRET!,
  visibilityMs: Number(visibilityMs),
  batchSize: 4,
});
await bus.on(
  'job',
  async (value, meta) => {
    const { n, ms } = value as { n: number; ms: number };
    const { deliveries } = meta as DeliveryMeta;
    appendFileSync(outFile!, `start ${n} ${deliveries}\n`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    appendFileSync(outFile!, `done ${n} ${deliveries}\n`);
  },
  { group: 'workers' },
);
process.send?.('ready');
process.on('disconnect', () => void bus.close().then(() => process.exit(0)));
