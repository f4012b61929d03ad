// `gaw call <target> <service.method> [params...]`: turns command-line words into JSON-RPC params
// (key=value named, bare values positional, each parsed as JSON when it parses), sends one request
// and prints the result as JSON on stdout, or the error and its JSON-RPC code on stderr.
// The transport is one-shot.ts; printing and exit codes are here.
import { clientDefaults } from '../client/index.js';
import { requestMessage } from '../jsonrpc/index.js';
import type { JsonRpcErrorObject, JsonRpcParams } from '../jsonrpc/index.js';
import { sendOnce } from './one-shot.js';
import type { OneShotOptions } from './one-shot.js';
import {
  exitCodes,
  parseTarget,
  readBoolean,
  readHttpToken,
  readInteger,
  readJson,
  readSecret,
  readString,
  securityOptions,
  usage,
} from './options.js';
import type { Argv } from './options.js';
import { isFromEnv } from './env-options.js';
import { escapeControls } from './terminal-text.js';
import { registryClientOptions, resolveCallTargets } from './registry-options.js';
import { ConnectionError } from '../errors.js';

export interface Output {
  /** Writes to stdout; resolves once the text is handed to the OS. */
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

export const clientOptions = {
  ...securityOptions,
  codec: {
    type: 'string',
    group: 'Security:',
    choices: ['json', 'msgpack'],
    defaultDescription: 'json',
    describe: 'the payload codec to ask for',
  },
  'http-token': {
    type: 'string',
    group: 'HTTP:',
    describe:
      'bearer token for an http:// target (visible in the process list: prefer --http-token-file or GAW_HTTP_TOKEN)',
  },
  'http-token-file': { type: 'string', group: 'HTTP:', describe: 'read the bearer token from this file' },
  'timeout-ms': {
    type: 'string',
    defaultDescription: '30000',
    describe: 'give up when connecting, the handshake and the reply take longer than this in all',
  },
} as const;

export const callOptions = {
  ...registryClientOptions,
  params: { type: 'string', describe: 'the params as one JSON document: an array (positional) or an object (named)' },
  timing: { type: 'boolean', describe: 'print the connect+handshake and call times to stderr' },
  ...clientOptions,
} as const;

const namedParam = /^([\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)=([\s\S]*)$/u;

/** A word as JSON when it parses (10, true, null, "x", [1,2], {"a":1}), otherwise the word as a string. */
export function parseValue(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    return word;
  }
}

/** Command-line words to params: all `key=value` (an object) or all bare values (an array). */
export function parseParams(words: readonly string[]): JsonRpcParams | undefined {
  if (words.length === 0) return undefined;
  const named: Record<string, unknown> = {};
  const positional: unknown[] = [];
  for (const word of words) {
    const match = namedParam.exec(word);
    if (match === null) {
      positional.push(parseValue(word));
      continue;
    }
    const key = match[1]!;
    if (Object.hasOwn(named, key)) throw usage(`the param ${JSON.stringify(key)} is given twice`);
    Object.defineProperty(named, key, {
      value: parseValue(match[2]!),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (positional.length > 0 && Object.keys(named).length > 0) {
    throw usage(
      'params must be all key=value (named) or all bare values (positional), not a mix; or pass --params with a JSON document',
    );
  }
  return positional.length > 0 ? positional : named;
}

/** Reads the options every client command shares. */
export function readClientOptions(argv: Argv): OneShotOptions {
  const options: OneShotOptions = {
    timeoutMs: readInteger(argv, 'timeout-ms', 1, 2 ** 31 - 1) ?? clientDefaults.timeoutMs,
  };
  options.secret = readSecret(argv);
  options.encrypt = readBoolean(argv, 'encrypt');
  const suite = readString(argv, 'suite');
  if (suite !== undefined) options.suite = suite as OneShotOptions['suite'];
  const codec = readString(argv, 'codec');
  if (codec !== undefined) options.codec = codec as OneShotOptions['codec'];
  options.httpToken = readHttpToken(argv);
  return options;
}

/**
 * JSON for printing: bytes (msgpack bin) shown as the json codec's {"_t": "bytes"} form, and
 * DEL, C1 and bidi controls inside strings escaped (JSON.stringify escapes only C0) so a value a
 * server sent cannot act on the terminal. The text stays valid JSON of the same value.
 */
export function toJson(value: unknown, indent?: number): string {
  const text =
    JSON.stringify(
      value,
      function (this: Record<string, unknown>, key: string, v: unknown) {
        const raw = this[key];
        return raw instanceof Uint8Array
          ? { _t: 'bytes', _v: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') }
          : v;
      },
      indent,
    ) ?? 'null';
  return escapeControls(text, { keepNewlines: true });
}

function formatMs(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** Prints a response's error as `error <code>: <message>` and its data, control characters escaped. */
export async function printRemoteError(io: Output, error: JsonRpcErrorObject): Promise<void> {
  const data = error.data === undefined ? '' : `\ndata: ${toJson(error.data)}`;
  await io.err(`error ${escapeControls(String(error.code))}: ${escapeControls(String(error.message))}${data}\n`);
}

/** Sends to the first target that takes the connection; the next only after one that provably ran nothing. */
async function sendToOne(targets: readonly string[], message: Parameters<typeof sendOnce>[1], options: OneShotOptions) {
  for (let i = 0; ; i++) {
    try {
      return await sendOnce(parseTarget(targets[i] as string), message, options);
    } catch (err) {
      if (i + 1 >= targets.length || !(err instanceof ConnectionError) || err.mayHaveReachedServer) throw err;
    }
  }
}

/** Runs `gaw call`; resolves to the exit code. Usage errors and transport failures throw. */
export async function runCall(argv: Argv, io: Output): Promise<number> {
  const isByName = readString(argv, 'registry') !== undefined;
  // With --registry the first word is the method: `gaw call --registry URL math_service.plus 1 2`.
  let method = readString(argv, isByName ? 'target' : 'method') ?? '';
  if (method.trim() === '') throw usage('the method is empty; give service.method, e.g. math_service.plus');
  const given = [...(isByName && argv.method !== undefined ? [argv.method] : []), ...((argv.param as unknown[]) ?? [])];
  const words = given.map(String);
  // Words on the command line win over GAW_PARAMS, as any flag does.
  const document =
    words.length > 0 && isFromEnv(argv, 'params')
      ? undefined
      : (readJson(argv, 'params', 'array or object') as JsonRpcParams | undefined);
  if (document !== undefined && words.length > 0) throw usage('give params as words or with --params, not both');
  const params = document ?? parseParams(words);
  const options = readClientOptions(argv);
  let targets = [readString(argv, 'target') ?? ''];
  if (isByName) ({ targets, method } = await resolveCallTargets(argv, method, options.timeoutMs));
  const message = requestMessage(1, method, params);
  const { response, connectMs, callMs } = await sendToOne(targets, message, options);
  if (readBoolean(argv, 'timing')) {
    const lines =
      connectMs === undefined
        ? [`call (HTTP, connect included): ${formatMs(callMs)}`]
        : [
            `connect+handshake: ${formatMs(connectMs)}`,
            `call: ${formatMs(callMs)}`,
            `total: ${formatMs(connectMs + callMs)}`,
          ];
    await io.err(`${lines.join('\n')}\n`);
  }
  if ('error' in response) {
    await printRemoteError(io, response.error);
    return exitCodes.failure;
  }
  await io.out(`${toJson(response.result)}\n`);
  return exitCodes.ok;
}
