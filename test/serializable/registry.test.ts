// Registration rules, the decorator and function forms, hooks, and how decoded instances are built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerializationError, UsageError } from '../../src/errors.js';
import { Registry, createCodec, defaultRegistry, register, serializable } from '../../src/serializable/index.js';

@serializable('DecoratedPoint')
class DecoratedPoint {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

class PlainJsPoint {
  x: number;
  constructor(x: number) {
    this.x = x;
  }
}
register(PlainJsPoint, { tag: 'PlainJsPoint' });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

test('the decorator and the function form both register into the default registry', () => {
  assert.ok(defaultRegistry.has('DecoratedPoint'));
  assert.ok(defaultRegistry.has('PlainJsPoint'));
  const back = defaultRegistry.decode(
    defaultRegistry.encode([new DecoratedPoint(3, 4), new PlainJsPoint(1)]),
  ) as unknown[];
  assert.ok(back[0] instanceof DecoratedPoint);
  assert.equal((back[0] as DecoratedPoint).norm(), 5);
  assert.ok(back[1] instanceof PlainJsPoint);
});

test('registering a tag twice, a built-in tag or the same class twice is a usage error', () => {
  const registry = new Registry();
  class A {}
  class B {}
  registry.register(A, { tag: 'A' });
  assert.equal(
    codeOf(() => registry.register(B, { tag: 'A' })),
    'GAW_ERR_DUPLICATE_TAG',
  );
  assert.equal(
    codeOf(() => registry.register(B, { tag: 'set' })),
    'GAW_ERR_DUPLICATE_TAG',
  );
  assert.equal(
    codeOf(() => registry.register(A, { tag: 'A2' })),
    'GAW_ERR_INVALID_OPTION',
  );
  assert.throws(() => registry.register(B, { tag: 'A' }), UsageError);
});

test('bad registration arguments are rejected with a message naming the problem', () => {
  const registry = new Registry();
  class C {}
  const cases: Array<[() => unknown, RegExp]> = [
    [() => registry.register(42 as never, { tag: 'x' }), /needs a class/],
    [() => registry.register(C, { tag: '' }), /1 to 256 characters/],
    [() => registry.register(C, { tag: 'x'.repeat(257) }), /1 to 256 characters/],
    [() => registry.register(C, { tag: 7 as never }), /1 to 256 characters/],
    [() => registry.register(C, { tag: 'c', fields: ['a', 1] as never }), /array of strings/],
    [() => registry.register(C, { tag: 'c', toJSON: 'no' as never }), /toJSON hook/],
    [() => registry.register(C, { tag: 'c', fromJSON: {} as never }), /fromJSON hook/],
    [() => registry.register(Object, { tag: 'c' }), /need no registration/],
    [() => new Registry({ maxDepth: 0 }), /maxDepth/],
    [() => new Registry({ maxDepth: 1.5 }), /maxDepth/],
    [() => new Registry({ maxDepth: 5000 }), /maxDepth/],
    [() => createCodec('yaml' as never), /unknown codec/],
  ];
  for (const [fn, message] of cases)
    assert.throws(fn, (err: unknown) => err instanceof UsageError && message.test(err.message));
});

test('the decorator refuses to decorate anything but a class', () => {
  const registry = new Registry();
  const decorate = registry.serializable('M');
  const context = { kind: 'method', name: 'm' } as unknown as ClassDecoratorContext;
  assert.throws(() => decorate(class {}, context as never), /classes only/);
});

test('registries are independent: a tag registered in one is unknown to another', () => {
  const first = new Registry();
  const second = new Registry();
  class OnlyInFirst {
    v = 1;
  }
  first.register(OnlyInFirst, { tag: 'OnlyInFirst' });
  assert.ok(first.has('OnlyInFirst'));
  assert.ok(!second.has('OnlyInFirst'));
  assert.ok(!defaultRegistry.has('OnlyInFirst'));
  assert.ok(second.has('datetime'), 'built-in tags are in every registry');
  const wire = first.encode(new OnlyInFirst());
  assert.throws(
    () => second.decode(wire),
    (err: unknown) => err instanceof SerializationError && err.code === 'GAW_ERR_UNKNOWN_TAG',
  );
  assert.throws(
    () => second.encode(new OnlyInFirst()),
    (err: unknown) => err instanceof SerializationError && err.code === 'GAW_ERR_UNENCODABLE',
  );
  for (const name of ['json', 'msgpack'] as const) {
    const bytes = createCodec(name, { registry: first }).encode({ r: new OnlyInFirst() });
    const other = createCodec(name, { registry: second });
    assert.throws(() => other.revive(other.decode(bytes)), /unknown tag "OnlyInFirst" at r/);
  }
  assert.deepEqual(first.tags(), ['OnlyInFirst']);
  assert.deepEqual(second.tags(), []);
});

test('decoding never calls the constructor and never runs a prototype setter', () => {
  const registry = new Registry();
  let constructed = 0;
  let setterCalls = 0;
  class Guarded {
    name = '';
    constructor() {
      constructed++;
    }
    set secret(_value: unknown) {
      setterCalls++;
    }
    get secret(): string {
      return 'prototype getter';
    }
  }
  registry.register(Guarded, { tag: 'Guarded' });
  const made = new Guarded();
  made.name = 'x';
  const wire = registry.encode(made);
  assert.deepEqual(wire, { _t: 'Guarded', _v: { name: 'x' } });
  const before = constructed;
  const hostile = { _t: 'Guarded', _v: { name: 'y', secret: 'attacker', constructor: 'c' } };
  const back = registry.decode(JSON.parse(JSON.stringify(hostile))) as Guarded & Record<string, unknown>;
  assert.equal(constructed, before);
  assert.equal(setterCalls, 0);
  assert.ok(back instanceof Guarded);
  assert.equal(Object.getPrototypeOf(back), Guarded.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(back, 'secret')?.value, 'attacker');
  assert.equal(back.constructor, 'c', 'an own data property shadows, it does not replace, the prototype');
  assert.equal(Guarded.prototype.constructor, Guarded);
});

test('fields limits what is sent and what is rebuilt', () => {
  const registry = new Registry();
  class Account {
    constructor(
      public id = 0,
      public password = '',
      public cache: unknown = null,
    ) {}
  }
  registry.register(Account, { tag: 'Account', fields: ['id'] });
  assert.deepEqual(registry.encode(new Account(7, 'hunter2', {})), { _t: 'Account', _v: { id: 7 } });
  const back = registry.decode({ _t: 'Account', _v: { id: 8, password: 'injected' } }) as Account;
  assert.ok(back instanceof Account);
  assert.deepEqual(Object.keys(back), ['id']);
  assert.equal(back.id, 8);
});

test('toJSON and fromJSON hooks carry state that is not own fields, such as #private fields', () => {
  const registry = new Registry();
  class Temperature {
    #kelvin: number;
    constructor(kelvin: number) {
      this.#kelvin = kelvin;
    }
    get celsius(): number {
      return this.#kelvin - 273.15;
    }
    get kelvin(): number {
      return this.#kelvin;
    }
  }
  registry.register(Temperature, {
    tag: 'Temperature',
    toJSON: (t) => ({ k: t.kelvin, when: new Date(0) }),
    fromJSON: (data: { k: number; when: Date }) => {
      if (typeof data?.k !== 'number' || !(data.when instanceof Date))
        throw new TypeError('expected { k: number, when: Date }');
      return new Temperature(data.k);
    },
  });
  for (const name of ['json', 'msgpack'] as const) {
    const codec = createCodec(name, { registry });
    const back = codec.revive(codec.decode(codec.encode({ t: new Temperature(300) }))) as { t: Temperature };
    assert.ok(back.t instanceof Temperature);
    assert.ok(Math.abs(back.t.celsius - 26.85) < 1e-9);
  }
  assert.throws(
    () => registry.decode({ box: { _t: 'Temperature', _v: { k: 'hot' } } }),
    (err: unknown) =>
      err instanceof SerializationError &&
      err.code === 'GAW_ERR_BAD_TAGGED_VALUE' &&
      err.path === 'box' &&
      /fromJSON hook of tag "Temperature"/.test(err.message) &&
      err.cause instanceof TypeError,
  );
  const failing = new Registry().register(Temperature, {
    tag: 'T',
    toJSON: () => {
      throw new Error('no');
    },
  });
  assert.throws(
    () => failing.encode({ list: [new Temperature(1)] }),
    /cannot encode a "T" value \(its toJSON hook threw: no\) at list\[0\]/,
  );
});

test('a subclass of a registered class must be registered itself; the error says so', () => {
  const registry = new Registry();
  class Base {
    a = 1;
  }
  class Derived extends Base {
    b = 2;
  }
  registry.register(Base, { tag: 'Base' });
  assert.throws(
    () => registry.encode({ x: new Derived() }),
    /cannot encode an instance of Derived at x: its class is not registered, only its parent class \(tag "Base"\)/,
  );
  registry.register(Derived, { tag: 'Derived' });
  const back = registry.decode(registry.encode(new Derived()));
  assert.ok(back instanceof Derived);
  assert.deepEqual({ ...(back as object) }, { a: 1, b: 2 });
});
