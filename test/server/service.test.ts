// How classes become services: decorators, the plain-JavaScript static form, and the errors at add.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { describeService, entrypoint, isServiceClass, service } from '../../src/server/service.js';

function methodNames(cls: Function): string[] {
  return [...describeService(cls).methods.keys()].sort();
}

function throwsUsage(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

class Base {
  @entrypoint inheritedExposed(x: number) {
    return x;
  }
  inheritedPlain() {
    return 'not exposed';
  }
}

class MathService extends Base {
  static serviceName = 'math_service';
  #secret = 1;
  constructor(public hello = 'hi') {
    super();
  }
  @entrypoint plus(a: number, b: number) {
    return `${this.hello}: ${a + b + this.#secret - 1}`;
  }
  @entrypoint async multiply(a: number, b = 1) {
    return a * b;
  }
  @entrypoint({ params: ['left', 'right?'] }) minified(n: number, r?: number) {
    return n - (r ?? 0);
  }
  helper() {
    return 'not exposed';
  }
  #hidden() {
    return 'private';
  }
}

test('decorated methods are exposed with their parameter names; others are not', () => {
  const description = describeService(MathService);
  assert.equal(description.name, 'math_service');
  assert.equal(description.isShared, false);
  assert.deepEqual(methodNames(MathService), ['inheritedExposed', 'minified', 'multiply', 'plus']);
  assert.deepEqual(description.methods.get('plus')?.params, ['a', 'b']);
  assert.deepEqual(description.methods.get('multiply')?.isOptional, [false, true]);
  const minified = description.methods.get('minified')!;
  assert.deepEqual(
    [minified.params, minified.isOptional, minified.hasExplicitNames],
    [['left', 'right'], [false, true], true],
  );
  for (const name of [
    'helper',
    'inheritedPlain',
    'hidden',
    '#hidden',
    'constructor',
    'toString',
    'hasOwnProperty',
    '__proto__',
  ]) {
    assert.equal(description.methods.has(name), false, name);
  }
});

test('an override without @entrypoint hides the exposed base method', () => {
  class Narrower extends MathService {
    static override serviceName = 'narrower';
    override plus(a: number, b: number) {
      return `${a - b}`;
    }
  }
  assert.equal(describeService(Narrower).methods.has('plus'), false);
  assert.equal(describeService(Narrower).methods.has('multiply'), true);
});

test('the plain JavaScript form lists entrypoints as names or with explicit parameter names', () => {
  class Plain {
    static serviceName = 'plain';
    static entrypoints = ['add', 'join'];
    add(a: number, b: number) {
      return a + b;
    }
    join(...parts: string[]) {
      return parts.join('');
    }
    internal() {
      return 0;
    }
  }
  assert.deepEqual(methodNames(Plain), ['add', 'join']);
  assert.equal(describeService(Plain).methods.get('join')?.restParam, 'parts');

  class PlainNamed {
    static serviceName = 'plain_named';
    static shared = true;
    static entrypoints = { sum: ['x', 'y?'], ping: true };
    sum({ x, y = 0 }: { x: number; y?: number }) {
      return x + y;
    }
    ping() {
      return 'pong';
    }
  }
  const description = describeService(PlainNamed);
  assert.equal(description.isShared, true);
  assert.deepEqual(description.methods.get('sum')?.params, ['x', 'y']);
  assert.deepEqual(description.methods.get('ping')?.params, []);
});

test('the @service decorator names a class and can make it shared', () => {
  @service('decorated', { shared: true })
  class Decorated {
    @entrypoint ping() {
      return 'pong';
    }
  }
  const description = describeService(Decorated);
  assert.deepEqual([description.name, description.isShared], ['decorated', true]);
  assert.equal(isServiceClass(Decorated), true);
});

test('isServiceClass tells service classes from other values', () => {
  assert.equal(isServiceClass(MathService), true);
  assert.equal(isServiceClass(Base), false);
  assert.equal(
    isServiceClass(
      class {
        static serviceName = 'x';
      },
    ),
    false,
  );
  assert.equal(
    isServiceClass(
      class {
        static serviceName = 'x';
        static entrypoints = ['y'];
      },
    ),
    true,
  );
  assert.equal(
    isServiceClass(() => 1),
    false,
  );
  assert.equal(isServiceClass({ serviceName: 'x' }), false);
  assert.equal(isServiceClass('MathService'), false);
});

test('a class without a name, without exposed methods, or with a bad name is refused with the reason', () => {
  throwsUsage(
    () =>
      describeService(
        class NoName {
          @entrypoint a() {}
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /class "NoName" .*no service name/,
  );
  throwsUsage(
    () =>
      describeService(
        class Empty {
          static serviceName = 'e';
          plain() {}
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /exposes no methods/,
  );
  throwsUsage(() => describeService((() => 1) as unknown as Function), 'GAW_ERR_NOT_A_SERVICE', /not a class/);
  for (const [name, reason] of [
    ['', /non-empty string/],
    ['a.b', /contains a dot/],
    ['rpc', /reserved/],
    ['has space', /whitespace/],
    ['x'.repeat(200), /longer than 128/],
    [42, /non-empty string/],
  ] as const) {
    throwsUsage(
      () =>
        describeService(
          class {
            static serviceName = name;
            @entrypoint a() {}
          },
        ),
      'GAW_ERR_NOT_A_SERVICE',
      reason,
    );
  }
  throwsUsage(() => service('a.b'), 'GAW_ERR_INVALID_OPTION', /contains a dot/);
  throwsUsage(
    () =>
      describeService(
        class {
          static serviceName = 's';
          static shared = 'yes';
          @entrypoint a() {}
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /shared must be true or false/,
  );
});

test('static entrypoints naming something that is not a method of the class is refused', () => {
  for (const name of ['missing', 'constructor', 'toString', 'hasOwnProperty', '__proto__']) {
    throwsUsage(
      () =>
        describeService(
          class {
            static serviceName = 's';
            static entrypoints = [name];
          },
        ),
      'GAW_ERR_NOT_A_SERVICE',
      /is not a method of the class/,
    );
  }
  throwsUsage(
    () =>
      describeService(
        class {
          static serviceName = 's';
          static entrypoints = 'a';
          a() {}
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /must be an array/,
  );
  throwsUsage(
    () =>
      describeService(
        class {
          static serviceName = 's';
          static entrypoints = [1];
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /method names/,
  );
  throwsUsage(
    () =>
      describeService(
        class {
          static serviceName = 's';
          static entrypoints = { a: 'x' };
          a() {}
        },
      ),
    'GAW_ERR_NOT_A_SERVICE',
    /entrypoints.a must be/,
  );
});

test('destructured parameters without explicit names are refused at registration, naming the method', () => {
  class Destructured {
    static serviceName = 'd';
    @entrypoint total({ a, b }: { a: number; b: number }) {
      return a + b;
    }
  }
  throwsUsage(
    () => describeService(Destructured),
    'GAW_ERR_NOT_A_SERVICE',
    /parameters of "total" cannot be read \(parameter 1 is destructured\).*@entrypoint\(\{ params/,
  );
  class Explicit {
    static serviceName = 'd';
    @entrypoint({ params: ['options'] }) total({ a, b }: { a: number; b: number }) {
      return a + b;
    }
  }
  assert.deepEqual(describeService(Explicit).methods.get('total')?.params, ['options']);
  class WrongCount {
    static serviceName = 'w';
    static entrypoints = { f: ['only'] };
    f(_a: number, _b: number) {
      return 0;
    }
  }
  throwsUsage(
    () => describeService(WrongCount),
    'GAW_ERR_NOT_A_SERVICE',
    /names given for "f" are wrong: 1 names given but the method declares 2/,
  );
});

test('@entrypoint refuses fields, getters, static and private methods, and bad options', () => {
  throwsUsage(
    () => {
      class _F {
        @(entrypoint as any) field = 1;
      }
    },
    'GAW_ERR_NOT_A_SERVICE',
    /methods only, not to a field/,
  );
  throwsUsage(
    () => {
      class _G {
        @(entrypoint as any) get value() {
          return 1;
        }
      }
    },
    'GAW_ERR_NOT_A_SERVICE',
    /methods only, not to a getter/,
  );
  throwsUsage(
    () => {
      class _S {
        @entrypoint static s() {}
      }
    },
    'GAW_ERR_NOT_A_SERVICE',
    /static method "s"/,
  );
  throwsUsage(
    () => {
      class _P {
        @entrypoint #p() {}
      }
    },
    'GAW_ERR_NOT_A_SERVICE',
    /private method "#p"/,
  );
  throwsUsage(() => entrypoint('x' as any), 'GAW_ERR_INVALID_OPTION', /options object/);
  throwsUsage(() => entrypoint({ params: 'a' as any }), 'GAW_ERR_INVALID_OPTION', /array of parameter names/);
  throwsUsage(
    () => {
      class _D {
        @entrypoint({ params: ['a', 'a'] }) m(_a: number, _b: number) {}
      }
    },
    'GAW_ERR_INVALID_OPTION',
    /appears twice/,
  );
});
