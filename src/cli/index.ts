// The gaw command line, reached only through this file (bin/gaw.js imports main.js directly, as
// its one job is to run it). Programs that embed the CLI, like examples/demo.js, use main().
export { main } from './main.js';
export type { CliRuntime } from './main.js';
export type { ListeningInfo } from './serve.js';
export { exitCodes } from './options.js';
export { generateSecret } from './keygen.js';
