// The variants of the instruction-count benchmark: what bench/instructions.ts names in its goals
// and what bench/instructions-child.ts runs. A module of its own so that importing the table runs
// no benchmark.
import type { GawClientOptions, GawServerOptions } from '../src/index.js';

export interface InstructionVariant {
  /** What the report calls it. */
  label: string;
  server?: GawServerOptions;
  client?: Omit<GawClientOptions, 'port'>;
  /** The bare framed JSON-RPC of limit-wire.ts instead of gaw (server and client options unused). */
  isLimit?: boolean;
}

/** The variants the goals compare; add one here and a goal in instructions.ts. */
export const instructionVariants: Readonly<Record<string, InstructionVariant>> = {
  'ctx-off': { label: 'call-context extension off (callContext: false)', client: { callContext: false } },
  'ctx-on': { label: 'call-context extension on (the default)' },
  msgpack: { label: 'gaw with the msgpack codec (call context on)', client: { codec: 'msgpack' } },
  limit: { label: 'the limit: bare length-prefixed JSON-RPC on net (bench/limit-wire.ts)', isLimit: true },
};
