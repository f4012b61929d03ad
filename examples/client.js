// Calls the demo server (npm start) with a GawClient: positional and named params, and a
// class-tagged result that arrives as a MathResult. Run it: node examples/client.js
import { readFileSync } from 'node:fs';
import { GawClient } from 'gaw';
import { MathResult } from './services.js'; // registers the MathResult tag

const secret = process.env.GAW_SECRET ?? readFileSync(new URL('../.gaw-demo/secret', import.meta.url), 'utf8').trim();
const port = Number(process.env.GAW_PORT ?? 5555);
const client = new GawClient({ host: '127.0.0.1', port, secret, encrypt: true });
try {
  console.log(await client.call('math_service.plus', [10, 20]));       // hello!: 30
  console.log(await client.call('math_service.plus', { a: 1, b: 2 })); // hello!: 3
  const math = client.services.math_service;
  const product = await math.multiply(10, 20);
  console.log(product instanceof MathResult, product);                 // true MathResult { header: 'hello!', result: 200 }
} finally {
  await client.close();
}
