// The `gaw` command line: the yargs command table (serve a module, call, list, keygen, bridge),
// the help text with examples, and the mapping of outcomes to exit codes (0 clean stop, 1 runtime
// failure, 2 usage error). bin/gaw.js calls main(); each command lives in its own file here.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv as Yargs } from 'yargs';
import { GawError, UsageError } from '../errors.js';
import { runBridge, bridgeOptions } from './bridge.js';
import { callOptions, runCall } from './call.js';
import type { Output } from './call.js';
import { keygenOptions, runKeygen } from './keygen.js';
import { listOptions, runList } from './list.js';
import { optionsFromEnv } from './env-options.js';
import { exitCodes, usage } from './options.js';
import type { Argv, Env } from './options.js';
import { runServe, serveOptions } from './serve.js';
import type { ListeningInfo } from './serve.js';
import { escapeControls } from './terminal-text.js';

export interface CliRuntime {
  /** Environment variables (default process.env): GAW_<OPTION> for every option of the command. */
  env?: Env;
  /** Where module paths are resolved from (default process.cwd()). */
  cwd?: string;
  /** Called once `gaw <module>` is listening (examples/demo.js prints its instructions then). */
  onListening?: (info: ListeningInfo) => void;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}

const io: Output = { out: (text) => write(process.stdout, text), err: (text) => write(process.stderr, text) };

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const envEpilog =
  'Every option can also be set as GAW_<OPTION>, in upper case with - as _ (GAW_SECRET_FILE=secret, GAW_TIMEOUT_MS=5000, GAW_ENCRYPT=1); an option on the command line wins.';

const epilog = `Environment: every option of a command can also be set as GAW_<OPTION>, in upper case with - as _:
  GAW_PORT=0, GAW_SECRET_FILE=secret, GAW_SECRET=<base64>, GAW_HTTP_TOKEN=<token>, GAW_ENCRYPT=1, GAW_SERVICE=a,b.
  An option given on the command line wins over its variable (--secret-file also over GAW_SECRET); empty ones are unset.

Exit codes: 0 clean stop or success, 1 runtime failure (a taken port, a wrong secret, a remote error), 2 usage error.
Logs are pino JSON lines on stdout (readable when stdout is a terminal); the secret is never logged.`;

function buildParser(
  args: readonly string[],
  runtime: Required<Pick<CliRuntime, 'env' | 'cwd'>> & CliRuntime,
  setExit: (code: number) => void,
): Yargs {
  const { env } = runtime;
  return yargs([...args])
    .scriptName('gaw')
    .usage('gaw <module> [options]        serve the services a module exports\ngaw <command> [options]')
    .parserConfiguration({
      'parse-positional-numbers': false,
      'parse-numbers': false,
      'camel-case-expansion': false,
      'duplicate-arguments-array': true,
    })
    .strict()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, err) => {
      throw err ?? usage(message);
    })
    .command(
      '$0 <module>',
      'serve the service classes a module exports (ESM or CommonJS, by path)',
      (y) =>
        y
          .positional('module', { type: 'string', describe: 'path of the module, relative to the current directory' })
          .options(serveOptions)
          .middleware(optionsFromEnv(serveOptions, env), true)
          .example(
            'gaw ./services.js --service math_service --kwargs \'{"hello": "hello!"}\'',
            'serve math_service on 127.0.0.1:5555',
          )
          .example(
            'GAW_SECRET=$(gaw keygen) gaw ./services.js --encrypt --http-port 8000 --http-token-file token',
            'encrypted, with the HTTP bridge',
          )
          .example('gaw ./services.js --port 0 --log-level debug', 'any free port, logging each call'),
      async (argv) => setExit(await runServe(argv as Argv, runtime)),
    )
    .command(
      'call <target> [method] [param..]',
      'call service.method and print the result as JSON',
      (y) =>
        y
          .positional('target', {
            type: 'string',
            describe:
              "host:port of a gaw server, or an HTTP bridge's http://host:port/api (with --registry: the method)",
          })
          .positional('method', { type: 'string', describe: 'service.method' })
          .positional('param', {
            type: 'string',
            array: true,
            describe: 'key=value (named) or bare values (positional); JSON when it parses, a string otherwise',
          })
          .options(callOptions)
          .middleware(optionsFromEnv(callOptions, env), true)
          .epilog(envEpilog)
          .example('gaw call 127.0.0.1:5555 math_service.plus 10 20', 'positional params')
          .example(
            'gaw call 127.0.0.1:5555 math_service.plus a=10 b=20 --secret-file secret --encrypt',
            'named params, encrypted',
          )
          .example(
            'gaw call 127.0.0.1:5555 say_hello --params \'{"name": "world"}\' --timing',
            'params as one JSON document, with timings',
          )
          .example(
            'gaw call http://127.0.0.1:8000/api math_service.multiply 10 20 --http-token-file token',
            'through an HTTP bridge',
          )
          .example('gaw call --registry redis://127.0.0.1:6379 math_service.plus 10 20', 'by service name'),
      async (argv) => setExit(await runCall(argv as Argv, io)),
    )
    .command(
      'list [target]',
      'list the services, methods and parameter names a server offers (rpc.discover), or with --registry what is registered',
      (y) =>
        y
          .positional('target', {
            type: 'string',
            describe: 'host:port, or http://host:port/api (with --registry: a glob of service names, default *)',
          })
          .options(listOptions)
          .middleware(optionsFromEnv(listOptions, env), true)
          .epilog(envEpilog)
          .example('gaw list 127.0.0.1:5555 --secret-file secret --encrypt', 'what the server offers')
          .example('gaw list --registry redis://127.0.0.1:6379', 'every registered service, instance and state'),
      async (argv) => setExit(await runList(argv as Argv, io)),
    )
    .command(
      'keygen',
      'print a fresh base64 secret from the CSPRNG',
      (y) =>
        y
          .options(keygenOptions)
          .middleware(optionsFromEnv(keygenOptions, env), true)
          .epilog(envEpilog)
          .example('gaw keygen > secret && chmod 600 secret', 'a 32-byte secret in a file only you can read')
          .example('gaw keygen --bytes 16', 'a 16-byte secret (Python Gaw accepts 16, 24 or 32)'),
      async (argv) => setExit(await runKeygen(argv as Argv, io)),
    )
    .command(
      'bridge',
      'a standalone HTTP bridge: JSON-RPC on POST /api, forwarded to a gaw server',
      (y) =>
        y
          .options(bridgeOptions)
          .middleware(optionsFromEnv(bridgeOptions, env), true)
          .epilog(envEpilog)
          .example('gaw bridge --to 127.0.0.1:5555 --port 8000', 'bridge a server without a secret')
          .example(
            'gaw bridge --to 10.0.0.5:5555 --secret-file secret --encrypt --http-token-file token',
            'bridge an encrypted server',
          ),
      async (argv) => setExit(await runBridge(argv as Argv, env)),
    )
    .epilog(epilog)
    .help()
    .alias('help', 'h')
    .version(readVersion());
}

/**
 * The stable code in parentheses, except for plain option mistakes where it adds nothing. Control
 * characters are escaped (newlines kept: yargs lays its messages out in lines), as a message may
 * quote what a server sent.
 */
function describeError(err: unknown): string {
  return escapeControls(describeErrorText(err), { keepNewlines: true });
}

function describeErrorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (!(err instanceof GawError)) return `${err.name}: ${err.message}`;
  if (err.code === 'GAW_ERR_INVALID_OPTION') return err.message;
  const hint = err.code === 'GAW_ERR_ADDRESS_IN_USE' ? ' (choose another port, or 0 for a free one)' : '';
  return `${err.message}${hint} (${err.code})`;
}

/** A usage mistake (exit 2) rather than a runtime failure (exit 1). */
function isUsageMistake(err: unknown): boolean {
  return err instanceof UsageError && err.code !== 'GAW_ERR_ADDRESS_IN_USE' && err.code !== 'GAW_ERR_CLOSED';
}

/** Runs the CLI with `args` (without node and the script); resolves to the exit code. Never rejects. */
export async function main(args: readonly string[], runtime: CliRuntime = {}): Promise<number> {
  if (args.length === 0) {
    await io.err(
      "gaw: give a module to serve or a command (call, list, keygen, bridge).\nRun 'gaw --help' for usage and examples.\n",
    );
    return exitCodes.usage;
  }
  let exitCode: number = exitCodes.ok;
  const full = { ...runtime, env: runtime.env ?? process.env, cwd: runtime.cwd ?? process.cwd() };
  try {
    await buildParser(args, full, (code) => {
      exitCode = code;
    }).parseAsync();
    return exitCode;
  } catch (err) {
    const isUsage = isUsageMistake(err);
    const more =
      isUsage && err instanceof UsageError && err.code === 'GAW_ERR_INVALID_OPTION'
        ? "\nRun 'gaw --help' or 'gaw <command> --help' for usage."
        : '';
    await io.err(`gaw: ${describeError(err)}${more}\n`);
    return isUsage ? exitCodes.usage : exitCodes.failure;
  }
}
