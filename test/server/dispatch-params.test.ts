// Binding positional and named params to declared names, the -32602 errors, revived values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/serializable/index.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { entrypoint } from '../../src/server/service.js';

class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}

class Geometry {
  static serviceName = 'geo';
  @entrypoint subtract(minuend: number, subtrahend: number) {
    return minuend - subtrahend;
  }
  @entrypoint greet(name: string, greeting = 'hello') {
    return `${greeting} ${name}`;
  }
  @entrypoint join(separator: string, ...parts: string[]) {
    return parts.join(separator);
  }
  @entrypoint nothing() {
    return 'none';
  }
  @entrypoint({ params: ['options'] }) area({ width, height }: { width: number; height: number }) {
    return width * height;
  }
  @entrypoint shift(point: Point, by: number) {
    if (!(point instanceof Point)) throw new Error('not a Point');
    return new Point(point.x + by, point.y + by);
  }
  @entrypoint echo(value: unknown) {
    return value;
  }
}

const registry = new Registry();
registry.register(Point, { tag: 'Point' });
const dispatcher = new Dispatcher({ registry }).add(Geometry);

async function reply(
  method: string,
  params?: unknown,
): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const message = params === undefined ? { jsonrpc: '2.0', method, id: 1 } : { jsonrpc: '2.0', method, params, id: 1 };
  return (await dispatcher.dispatch(message)) as { result?: unknown; error?: { code: number; message: string } };
}

async function invalidParams(method: string, params: unknown, pattern: RegExp): Promise<void> {
  const { error } = await reply(method, params);
  assert.ok(error, `expected -32602 for ${JSON.stringify(params)}`);
  assert.equal(error.code, -32602);
  assert.match(error.message, /^Invalid params: /);
  assert.match(error.message, pattern);
}

test('positional params bind in order and named params bind by declared name', async () => {
  assert.equal((await reply('geo.subtract', [42, 23])).result, 19);
  assert.equal((await reply('geo.subtract', { subtrahend: 23, minuend: 42 })).result, 19);
  assert.equal((await reply('geo.greet', { name: 'world' })).result, 'hello world');
  assert.equal((await reply('geo.greet', { greeting: 'hi', name: 'you' })).result, 'hi you');
  assert.equal((await reply('geo.greet', ['x'])).result, 'hello x');
  assert.equal((await reply('geo.nothing')).result, 'none');
  assert.equal((await reply('geo.nothing', [])).result, 'none');
  assert.equal((await reply('geo.nothing', {})).result, 'none');
});

test('a rest parameter takes any number of further positional params', async () => {
  assert.equal((await reply('geo.join', ['-', 'a', 'b', 'c'])).result, 'a-b-c');
  assert.equal((await reply('geo.join', ['-'])).result, '');
  assert.equal((await reply('geo.join', { separator: '+' })).result, '');
});

test('explicit names bind a destructured parameter as one named value', async () => {
  assert.equal((await reply('geo.area', { options: { width: 3, height: 4 } })).result, 12);
  assert.equal((await reply('geo.area', [{ width: 2, height: 5 }])).result, 10);
});

test('an unknown named param is -32602 naming it and the accepted names', async () => {
  await invalidParams(
    'geo.subtract',
    { minuend: 1, subtrahend: 2, extra: 3 },
    /unknown parameter "extra" for geo\.subtract \(it takes minuend, subtrahend\)/,
  );
  await invalidParams('geo.nothing', { a: 1 }, /unknown parameter "a" .*takes no named params/);
  await invalidParams('geo.join', { separator: '-', parts: ['a'] }, /unknown parameter "parts"/);
  await invalidParams(
    'geo.subtract',
    JSON.parse('{"__proto__": 1, "minuend": 1, "subtrahend": 2}'),
    /unknown parameter "__proto__"/,
  );
});

test('a missing required param is -32602 naming it, by name or by position', async () => {
  await invalidParams('geo.subtract', { minuend: 1 }, /missing required parameter "subtrahend" of geo\.subtract/);
  await invalidParams('geo.subtract', [1], /missing required parameter "subtrahend"/);
  await invalidParams('geo.subtract', undefined, /missing required parameter "minuend"/);
  await invalidParams('geo.greet', { greeting: 'hi' }, /missing required parameter "name"/);
});

test('more positional params than the method takes is -32602 saying how many', async () => {
  await invalidParams('geo.subtract', [1, 2, 3], /geo\.subtract takes at most 2 positional params, got 3/);
  await invalidParams('geo.nothing', [1], /takes at most 0 positional params, got 1/);
});

test('an unknown parameter name is quoted and cut, never echoed at length', async () => {
  const { error } = await reply('geo.subtract', { [`bad\nname${'x'.repeat(10_000)}`]: 1 });
  assert.equal(error?.code, -32602);
  assert.ok(error!.message.length < 300);
  assert.ok(!error!.message.includes('\n'));
});

test('registered class-tagged values are revived in params, positional or named, and results come back as instances', async () => {
  const tagged = { _t: 'Point', _v: { x: 1, y: 2 } };
  const positional = await reply('geo.shift', [tagged, 10]);
  assert.ok(positional.result instanceof Point);
  assert.deepEqual({ ...(positional.result as Point) }, { x: 11, y: 12 });
  const named = await reply('geo.shift', { by: 1, point: tagged });
  assert.deepEqual({ ...(named.result as Point) }, { x: 2, y: 3 });
  const nested = await reply('geo.echo', [[{ deep: tagged }]]);
  assert.ok(((nested.result as any)[0].deep as unknown) instanceof Point);
});

test('a param value that does not revive is -32602 naming the problem and where', async () => {
  await invalidParams('geo.echo', [{ _t: 'Nope', _v: 1 }], /Nope/);
  await invalidParams('geo.echo', { value: { _t: 'Nope', _v: 1 } }, /params\.value/);
});

test('a named params object that looks like a tagged value is still bound by name', async () => {
  await invalidParams('geo.echo', { _t: 'Point', _v: { x: 1, y: 2 } }, /unknown parameter "_t"/);
});
