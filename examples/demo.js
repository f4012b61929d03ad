// What `npm start` runs (after the build): makes .gaw-demo/secret and .gaw-demo/http-token on the
// first run (mode 0600), then serves examples/services.js through the real CLI code path with
// encryption on, TCP port 5555 and the HTTP bridge on 127.0.0.1:8000, and prints the three ways
// to call it. Ports: GAW_PORT and GAW_HTTP_PORT. Stop it with Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from '../dist/src/cli/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = `${root}.gaw-demo`;
const secretFile = `${dir}/secret`;
const tokenFile = `${dir}/http-token`;

/** Writes a fresh random value unless the file exists; only the owner can read it. */
function makeOnce(path, value) {
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (err.code !== 'EEXIST') throw err;
  }
}

mkdirSync(dir, { recursive: true, mode: 0o700 });
makeOnce(secretFile, randomBytes(32).toString('base64'));
makeOnce(tokenFile, randomBytes(24).toString('base64url'));

const port = process.env.GAW_PORT ?? '5555';
const httpPort = process.env.GAW_HTTP_PORT ?? '8000';

const code = await main([
  `${root}examples/services.js`,
  '--kwargs', '{"hello": "hello!"}',
  '--encrypt', '--secret-file', secretFile,
  '--port', port,
  '--http-port', httpPort, '--http-token-file', tokenFile,
], {
  onListening: ({ address, httpAddress }) => {
    const env = address.port === 5555 ? '' : `GAW_PORT=${address.port} `;
    process.stderr.write(`
gaw demo: math_service is listening on ${address.address}:${address.port} (encrypted) and http://${httpAddress.address}:${httpAddress.port}/api
Call it three ways (from ${root}):

  npx gaw call ${address.address}:${address.port} math_service.plus 10 20 --secret-file .gaw-demo/secret --encrypt
  ${env}node examples/client.js
  curl -s -H 'Content-Type: application/json' -H "Authorization: Bearer $(cat .gaw-demo/http-token)" \\
    -d '{"jsonrpc":"2.0","id":1,"method":"math_service.multiply","params":[10,20]}' http://${httpAddress.address}:${httpAddress.port}/api

Stop with Ctrl-C (a second Ctrl-C exits at once).

`);
  },
});
process.exit(code);
