// Every option of a command can also come from the environment: GAW_PORT for --port, GAW_SECRET_FILE
// for --secret-file, GAW_ENCRYPT=1 for --encrypt. A yargs middleware (run before validation, so
// choices and required options are checked the same way) fills in what the command line left out,
// and remembers which values came from where so messages can name GAW_PORT rather than --port.
// Only the running command's own options are read: a GAW_PORT meant for a server never breaks `gaw call`.
import { UsageError } from '../errors.js';
import type { Argv, Env } from './options.js';

/** What yargs knows of an option that matters here. */
interface OptionShape {
  readonly type?: string;
  readonly array?: boolean;
  readonly choices?: readonly string[];
}

const sources = Symbol('gaw.optionSources');

/**
 * Options that are alternatives to each other: when the command line gives one of them, the
 * environment's values for all of them are ignored (`--secret-file x` wins over GAW_SECRET).
 */
const alternatives: readonly (readonly string[])[] = [
  ['secret', 'secret-file'],
  ['http-token', 'http-token-file'],
  ['args', 'kwargs'],
];

/** The variable that sets `--<option>`: GAW_ and the name in upper case with - as _. */
export function envName(option: string): string {
  return `GAW_${option.toUpperCase().replace(/-/g, '_')}`;
}

/** True when the value of `--<option>` came from its GAW_ variable, not the command line. */
export function isFromEnv(argv: Argv, option: string): boolean {
  return (argv as { [sources]?: Set<string> })[sources]?.has(option) === true;
}

/** How to name the option in a message: `--port`, or `GAW_PORT` when that is where the value came from. */
export function optionLabel(argv: Argv, option: string): string {
  return isFromEnv(argv, option) ? envName(option) : `--${option}`;
}

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off']);

function fromText(option: string, shape: OptionShape, text: string): unknown {
  const invalid = (what: string) =>
    new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${envName(option)} must be ${what}, not ${JSON.stringify(text.slice(0, 40))}`,
    );
  if (shape.type === 'boolean') {
    const word = text.toLowerCase();
    if (truthy.has(word)) return true;
    if (falsy.has(word)) return false;
    throw invalid('1, true, yes or on, or 0, false, no or off');
  }
  if (shape.choices !== undefined && !shape.choices.includes(text)) throw invalid(`one of ${shape.choices.join(', ')}`);
  if (shape.array === true)
    return text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  return text;
}

/**
 * A yargs middleware that sets each option of `options` the command line did not give from its
 * GAW_ variable in `env`. Empty or blank variables count as unset.
 */
export function optionsFromEnv(
  options: Readonly<Record<string, OptionShape>>,
  env: Env,
): (argv: Record<string | symbol, unknown>) => void {
  return (argv) => {
    const given = new Set(Object.keys(options).filter((name) => argv[name] !== undefined));
    const filled = new Set<string>();
    for (const [name, shape] of Object.entries(options)) {
      if (given.has(name)) continue;
      if (alternatives.some((group) => group.includes(name) && group.some((other) => given.has(other)))) continue;
      const text = env[envName(name)]?.trim();
      if (text === undefined || text === '') continue;
      argv[name] = fromText(name, shape, text);
      filled.add(name);
    }
    argv[sources] = filled;
  };
}
