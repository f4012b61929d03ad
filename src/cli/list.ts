// `gaw list <target>`: asks the server's rpc.discover for its OpenRPC document and prints each
// service with its methods and parameter names (or the document itself with --json).
// The transport is one-shot.ts; the document is built by src/server/discover.ts. With --registry it
// lists what the registry holds instead (registry-options.ts).
import { requestMessage } from '../jsonrpc/index.js';
import { clientOptions, printRemoteError, readClientOptions, toJson } from './call.js';
import type { Output } from './call.js';
import { sendOnce } from './one-shot.js';
import { exitCodes, parseTarget, readBoolean, readString } from './options.js';
import type { Argv } from './options.js';
import { escapeControls } from './terminal-text.js';
import { formatRegistry, listRegistry, registryClientOptions } from './registry-options.js';

interface ParamDescriptor {
  name?: unknown;
  required?: unknown;
  'x-gaw-rest'?: unknown;
}

/** `service` -> lines like `plus(a, b?, ...rest)`, in the document's order; every name the server sent is escaped. */
export function formatDiscovery(document: unknown): string {
  const methods = (document as { methods?: unknown } | null)?.methods;
  if (!Array.isArray(methods)) return 'the server sent no method list\n';
  const byService = new Map<string, string[]>();
  for (const method of methods as { name?: unknown; params?: unknown }[]) {
    if (typeof method?.name !== 'string') continue;
    const dot = method.name.indexOf('.');
    const service = dot < 0 ? '' : method.name.slice(0, dot);
    const name = dot < 0 ? method.name : method.name.slice(dot + 1);
    const params = (Array.isArray(method.params) ? (method.params as ParamDescriptor[]) : []).map((p) => {
      const label = typeof p?.name === 'string' ? escapeControls(p.name) : '?';
      if (p?.['x-gaw-rest'] === true) return `...${label}`;
      return p?.required === false ? `${label}?` : label;
    });
    const lines = byService.get(service) ?? [];
    lines.push(`  ${escapeControls(name)}(${params.join(', ')})`);
    byService.set(service, lines);
  }
  if (byService.size === 0) return 'the server hosts no services\n';
  return [...byService]
    .map(([service, lines]) => `${service === '' ? '(no service)' : escapeControls(service)}\n${lines.join('\n')}\n`)
    .join('');
}

export const listOptions = {
  ...registryClientOptions,
  json: { type: 'boolean', describe: 'print the OpenRPC document itself' },
  ...clientOptions,
} as const;

/** Runs `gaw list`; resolves to the exit code. */
export async function runList(argv: Argv, io: Output): Promise<number> {
  const options = readClientOptions(argv);
  if (readString(argv, 'registry') !== undefined) {
    // `gaw list --registry URL [pattern]`: what the registry holds, not what one server offers.
    const listed = await listRegistry(argv, readString(argv, 'target') ?? '*', options.timeoutMs);
    await io.out(readBoolean(argv, 'json') ? `${toJson(listed, 2)}\n` : formatRegistry(listed));
    return exitCodes.ok;
  }
  const target = parseTarget(readString(argv, 'target') ?? '');
  const { response } = await sendOnce(target, requestMessage(1, 'rpc.discover'), options);
  if ('error' in response) {
    await printRemoteError(io, response.error);
    return exitCodes.failure;
  }
  const document = response.result;
  await io.out(readBoolean(argv, 'json') ? `${toJson(document, 2)}\n` : formatDiscovery(document));
  return exitCodes.ok;
}
