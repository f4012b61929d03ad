// Child process: a GawServer hosting the bench service with the suite it is told (and the HTTP
// bridge when asked), on port 0; it reports its ports over IPC and, on request, its memory after a
// full GC and its connection count. Started by run.ts; never run by hand.
import { GawServer } from '../src/index.js';
import type { SuiteName } from '../src/index.js';
import { benchSecret, childArgs, listenToParent, tell } from './child.js';
import { BenchService } from './workload.js';

export interface GawServerArgs {
  suite: SuiteName;
  hasHttp?: boolean;
}

const args = childArgs<GawServerArgs>();
const server = new GawServer({
  host: '127.0.0.1',
  port: 0,
  ...(args.suite === 'none' ? {} : { secret: benchSecret(), suite: args.suite }),
  ...(args.hasHttp && { http: { port: 0, isOpen: true } }),
});
server.add(BenchService);
await server.listen();

listenToParent(
  {
    cpu: () => tell({ type: 'cpu', ...process.cpuUsage() }),
    memory() {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      const usage = process.memoryUsage();
      tell({ type: 'memory', ...usage, connections: server.connectionCount });
    },
  },
  () => server.close(),
);

tell({ type: 'ready', port: server.address.port, httpPort: server.httpAddress?.port });
