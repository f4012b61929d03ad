import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bindKwargs, readConstructorParams } from '../../src/cli/constructor-params.js';
import type { ConstructorParams } from '../../src/cli/constructor-params.js';

function read(cls: Function): ConstructorParams {
  const list = readConstructorParams(cls);
  if (typeof list === 'string') assert.fail(`unreadable: ${list}`);
  return list;
}

describe('reading constructor parameter names', () => {
  test('finds the constructor wherever it sits in the class body', () => {
    class MethodsFirst {
      static serviceName = 'x(y)';
      plus(a: number, b: number) {
        return a + b;
      }
      constructor(
        public hello: string,
        greeting = 'hi, (there)',
      ) {
        void greeting;
      }
    }
    assert.deepEqual(read(MethodsFirst), { params: ['hello', 'greeting'], isOptional: [false, true] });
  });

  test('skips strings, comments, nested braces and methods that mention constructor', () => {
    class Tricky {
      note = '{ constructor(fake) }';
      template = `${{ close: ')}' }.close} constructor(fake)`;
      // constructor(commented)
      make = () => (this.constructor as Function).name;
      build() {
        return { constructor: (x: unknown) => x };
      }
      constructor(/* the first */ first: unknown, ...rest: unknown[]) {
        void first;
        void rest;
      }
    }
    assert.deepEqual(read(Tricky), { params: ['first'], isOptional: [false], restParam: 'rest' });
  });

  test('uses the parent constructor when a class declares none, and none at all when neither does', () => {
    class Base {
      constructor(
        readonly url: string,
        readonly retries = 3,
      ) {}
    }
    class Derived extends Base {
      ping() {
        return this.url;
      }
    }
    assert.deepEqual(read(Derived), { params: ['url', 'retries'], isOptional: [false, true] });
    class Bare {
      run() {}
    }
    assert.deepEqual(read(Bare), { params: [], isOptional: [] });
  });

  test('explains why destructured or native constructors cannot be read', () => {
    class Destructured {
      constructor({ a }: { a: number }) {
        void a;
      }
    }
    assert.match(String(readConstructorParams(Destructured)), /parameter 1 is destructured/);
    assert.match(String(readConstructorParams(Map)), /native/);
  });
});

describe('binding --kwargs', () => {
  const list: ConstructorParams = {
    params: ['host', 'port', 'secure'],
    isOptional: [false, true, true],
    restParam: 'extra',
  };

  test('puts each value at its parameter position, leaving gaps undefined so defaults apply', () => {
    assert.deepEqual(bindKwargs('svc', list, { port: 80 }), [undefined, 80]);
    assert.deepEqual(bindKwargs('svc', list, { secure: true, host: 'h' }), ['h', undefined, true]);
    assert.deepEqual(bindKwargs('svc', list, {}), []);
  });

  test('spreads an array given for the rest parameter after the named ones', () => {
    assert.deepEqual(bindKwargs('svc', list, { host: 'h', extra: [1, 2] }), ['h', undefined, undefined, 1, 2]);
    assert.throws(() => bindKwargs('svc', list, { extra: 1 }), /rest parameter .* needs a JSON array/);
  });

  test('an unknown name is a usage error showing the constructor signature', () => {
    assert.throws(() => bindKwargs('svc', list, { hots: 'h' }), {
      code: 'GAW_ERR_INVALID_OPTION',
      message: '--kwargs names "hots", which svc\'s constructor (host, port?, secure?, ...extra) does not take',
    });
  });
});
