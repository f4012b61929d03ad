// The demo service, in plain JavaScript (no decorators): math_service with plus and multiply, and
// MathResult, a class that crosses the wire tagged, so a GawClient gets a MathResult back.
// Serve it:  gaw examples/services.js --kwargs '{"hello": "hello!"}'
import { ServiceError, register } from 'gaw';

export class MathResult {
  constructor(header = '', result = 0) {
    this.header = header;
    this.result = result;
  }
}
register(MathResult, { tag: 'MathResult' }); // the function form of @serializable('MathResult')

export class MathService {
  static serviceName = 'math_service';
  static entrypoints = ['plus', 'multiply', 'divide']; // only these are callable

  constructor(hello = 'hello!') {
    this.hello = hello;
  }

  plus(a, b) {
    return `${this.hello}: ${a + b}`;
  }

  async multiply(a, b) {
    return new MathResult(this.hello, a * b);
  }

  divide(a, b) {
    // A chosen JSON-RPC error: its code, message and data reach the caller as they are.
    if (b === 0) throw new ServiceError(1001, 'division by zero', { a, b });
    return a / b;
  }
}
