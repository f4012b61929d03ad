// The CLI's observability options for `gaw <module>`: interceptors from a module of the user's
// (`--interceptors ./mine.js`). Reads argv and loads modules; builds nothing of the server.
import { UsageError } from '../errors.js';
import { checkInterceptors } from '../observe/index.js';
import type { ServerInterceptor } from '../observe/index.js';
import type { Argv } from './options.js';
import { readList } from './options.js';
import { optionLabel } from './env-options.js';
import { importModule } from './services.js';

export const observeOptions = {
  interceptors: {
    type: 'string',
    array: true,
    group: 'Observability:',
    describe:
      'a module exporting `interceptors` (an array) or a default function or array, run around every call in order (repeatable)',
  },
} as const;

/** The interceptors of every `--interceptors` module, in the order given; undefined when none. */
export async function loadInterceptors(argv: Argv, cwd: string): Promise<ServerInterceptor[] | undefined> {
  const paths = readList(argv, 'interceptors');
  if (paths === undefined || paths.length === 0) return undefined;
  const all: ServerInterceptor[] = [];
  for (const path of paths) {
    const { namespace } = await importModule(path, cwd);
    const found = namespace.interceptors ?? namespace.default;
    const list = typeof found === 'function' ? [found] : found;
    const label = `${optionLabel(argv, 'interceptors')} ${JSON.stringify(path)}`;
    if (list === undefined)
      throw new UsageError(
        'GAW_ERR_MODULE_LOAD',
        `${label} exports neither \`interceptors\` nor a default: export const interceptors = [(call, next) => next()]`,
      );
    all.push(...(checkInterceptors<ServerInterceptor>(list, `the interceptors of ${label}`) ?? []));
  }
  return all;
}
