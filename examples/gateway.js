// A service that calls another service: gateway.rectangle asks math_service (examples/services.js)
// to multiply, through one pooled GawClient shared by every call.
// Serve it next to the demo:  gaw examples/gateway.js --port 5556 --kwargs '{"math": "127.0.0.1:5555"}'
// (with the demo's encryption: GAW_SECRET=$(cat .gaw-demo/secret) and "encrypt": true in --kwargs)
import { GawClient } from 'gaw';
import { MathResult } from './services.js'; // registers the MathResult tag, so replies arrive as MathResult

export class GatewayService {
  static serviceName = 'gateway';
  static entrypoints = ['rectangle'];
  static shared = true; // one instance, so one client and its pooled connections serve every call

  #math;

  constructor(math = '127.0.0.1:5555', secret = process.env.GAW_SECRET, encrypt = false) {
    this.#math = new GawClient({ endpoints: [math], secret, encrypt, timeoutMs: 5000 });
  }

  async rectangle(width, height) {
    const product = await this.#math.call('math_service.multiply', [width, height]);
    if (!(product instanceof MathResult)) throw new Error('math_service did not answer with a MathResult');
    return { width, height, area: product.result, greeting: product.header };
  }
}
