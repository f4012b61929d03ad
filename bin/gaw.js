#!/usr/bin/env node
// The gaw command line: runs the built CLI (npm run build first) and exits with its code.
import('../dist/src/cli/main.js').then(
  async ({ main }) => process.exit(await main(process.argv.slice(2))),
  (err) => {
    process.stderr.write(`gaw: cannot start the CLI (run \`npm run build\` first?): ${err.message}\n`);
    process.exit(1);
  },
);
