// The README's example, run by the tests: one encrypted server, one client, a class that crosses
// the wire as itself. Run it: npm run build && node examples/quickstart.js
import { randomBytes } from 'node:crypto';
import { GawClient, GawServer, register } from 'gaw';

class MathResult { constructor(header = '', result = 0) { this.header = header; this.result = result; } }
register(MathResult, { tag: 'MathResult' });

class MathService {
  static serviceName = 'math_service';
  static entrypoints = ['plus', 'multiply'];
  constructor(hello) { this.hello = hello; }
  plus(a, b) { return `${this.hello}: ${a + b}`; }
  multiply(a, b) { return new MathResult(this.hello, a * b); }
}

const secret = randomBytes(32).toString('base64');             // or: gaw keygen
const server = new GawServer({ port: 0, secret, encrypt: true }).add(MathService, 'hello!');
await server.listen();

const client = new GawClient({ port: server.address.port, secret, encrypt: true });
const math = client.services.math_service;
console.log(await math.plus(10, 20));                           // hello!: 30
console.log(await client.call('math_service.plus', { a: 1, b: 2 })); // hello!: 3
const product = await math.multiply(10, 20);
console.log(product instanceof MathResult, product.result);    // true 200
await client.close();
await server.close();
