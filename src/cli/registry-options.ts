// The CLI's registry options: `--registry URL` and `--advertise host:port` for `gaw <module>`
// (registers the served services), `--registry URL` for `gaw call` (by service name; a glob when
// it matches one service) and `gaw list` (services, instances and their state). GAW_REGISTRY works
// as every GAW_ variable does (env-options.ts). Reads argv and asks the registry; serves nothing.
import { silentLogger } from '../log.js';
import { RegistryWatcher, resolveDiscovery } from '../registry/index.js';
import type { DiscoveryOptions, Instance } from '../registry/index.js';
import { isFromEnv, optionLabel } from './env-options.js';
import { readString, usage } from './options.js';
import type { Argv } from './options.js';
import { escapeControls } from './terminal-text.js';

const registry = {
  type: 'string',
  group: 'Registry:',
  describe: 'redis://host:port/db, rediss://..., or unix:///path/redis.sock (needs the redis package installed)',
} as const;

export const registryServeOptions = {
  registry: { ...registry, describe: `register the served services in this registry: ${registry.describe}` },
  advertise: {
    type: 'string',
    group: 'Registry:',
    describe: 'the host:port clients dial, registered for this server (required with --host 0.0.0.0 or ::)',
  },
} as const;

export const registryClientOptions = {
  registry: { ...registry, describe: `find the target by service name in this registry: ${registry.describe}` },
} as const;

const wildcardHosts = new Set(['0.0.0.0', '::', '[::]', '']);

/** The `discovery` option of the server `gaw <module>` starts, or undefined without --registry. */
export function readServeDiscovery(argv: Argv, host: string): DiscoveryOptions | undefined {
  const url = readString(argv, 'registry');
  const advertise = readString(argv, 'advertise');
  if (url === undefined) {
    if (advertise !== undefined && !isFromEnv(argv, 'advertise'))
      throw usage('--advertise needs --registry (nothing is registered without it)');
    return undefined;
  }
  if (advertise === undefined && wildcardHosts.has(host))
    throw usage(
      `the server listens on ${host}, which clients cannot dial: give --advertise host:port to register it with ${optionLabel(argv, 'registry')}`,
    );
  resolveDiscovery({ url }, silentLogger);
  return { url, ...(advertise !== undefined && { advertise }) };
}

function watcherFor(argv: Argv, timeoutMs: number): RegistryWatcher {
  const url = readString(argv, 'registry') as string;
  return new RegistryWatcher(resolveDiscovery({ url, discoveryTimeoutMs: Math.min(timeoutMs, 60_000) }, silentLogger));
}

const hasGlob = /[*?[\\]/;

/**
 * `gaw call --registry`: the instances to dial for `method` (`service.method`; the service part may
 * be a glob matching exactly one service), every serving one in random order: the caller moves to
 * the next only when a connection provably never reached the server (a dead one not reaped yet).
 */
export async function resolveCallTargets(
  argv: Argv,
  method: string,
  timeoutMs: number,
): Promise<{ targets: string[]; method: string }> {
  const dot = method.lastIndexOf('.');
  if (dot <= 0) throw usage(`${JSON.stringify(method.slice(0, 130))} is not service.method`);
  let service = method.slice(0, dot);
  const watcher = watcherFor(argv, timeoutMs);
  try {
    if (hasGlob.test(service)) {
      const names = await watcher.discover(service);
      if (names.length !== 1)
        throw usage(
          names.length === 0
            ? `no registered service matches ${JSON.stringify(service)}`
            : `${JSON.stringify(service)} matches ${names.length} services (${names
                .slice(0, 5)
                .map((n) => escapeControls(n))
                .join(', ')}${names.length > 5 ? ', ...' : ''}): name one`,
        );
      service = names[0] as string;
    }
    const targets = (await watcher.resolve(service)).serving().map((instance) => instance.addr);
    if (targets.length === 0) throw usage(`no instance of ${service} is registered`);
    for (let i = targets.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [targets[i], targets[j]] = [targets[j] as string, targets[i] as string];
    }
    return { targets, method: `${service}${method.slice(dot)}` };
  } finally {
    watcher.destroy();
  }
}

export interface ListedService {
  readonly service: string;
  readonly instances: readonly (Instance & { readonly state: 'serving' | 'draining' })[];
}

/** `gaw list --registry [pattern]`: every service matching `pattern` (default `*`) with its instances. */
export async function listRegistry(argv: Argv, pattern: string, timeoutMs: number): Promise<ListedService[]> {
  const watcher = watcherFor(argv, timeoutMs);
  try {
    const listed: ListedService[] = [];
    for (const service of await watcher.discover(pattern)) {
      const view = await watcher.resolve(service);
      const instances = [...view.instances.values()]
        .map((i) => ({ ...i, state: i.isDraining ? ('draining' as const) : ('serving' as const) }))
        .sort((a, b) => a.addr.localeCompare(b.addr));
      listed.push({ service, instances });
    }
    return listed;
  } finally {
    watcher.destroy();
  }
}

/** The listing as text: a service per line, then its instances indented; everything from Redis escaped. */
export function formatRegistry(listed: readonly ListedService[]): string {
  if (listed.length === 0) return 'no service is registered\n';
  return listed
    .map(({ service, instances }) => {
      const lines = instances.map((i) => {
        const extra = [
          `workers ${i.workers}`,
          `weight ${i.weight}`,
          ...(i.zone === undefined ? [] : [`zone ${i.zone}`]),
        ];
        return `  ${escapeControls(i.addr)}  ${i.state}  ${escapeControls(extra.join('  '))}`;
      });
      const count = `${instances.length} instance${instances.length === 1 ? '' : 's'}`;
      return `${escapeControls(service)}  (${count})\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
    })
    .join('');
}
