// Reading parameter names from method source, and explicit name lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExplicitNames, readParameterNames } from '../../src/server/params.js';

class Sample {
  plain(a: number, b: number) {
    return a + b;
  }
  withDefaults(a: number, b = 2, c = `x,${'y'}`) {
    return [a, b, c];
  }
  async asyncOne(first: string, second?: number) {
    return first + String(second);
  }
  rest(head: number, ...tail: number[]) {
    return [head, ...tail];
  }
  commented(
    a /* the first, with a comma */: number, // a line comment (with a paren
    b: number,
  ) {
    return a + b;
  }
  nestedDefault(a = { x: [1, 2], y: 3 }, b = 'a)b', c = 'q,"w') {
    return [a, b, c];
  }
  none() {
    return 1;
  }
  *gen(step: number) {
    yield step;
  }
  async *agen(step: number) {
    yield step;
  }
  ['computed' + '(x'](p: number) {
    return p;
  }
  destructured({ a, b }: { a: number; b: number }) {
    return a + b;
  }
  arrayDestructured([a, b]: number[]) {
    return a! + b!;
  }
  restDestructured(...[a]: number[]) {
    return a;
  }
}

const proto = Sample.prototype as unknown as Record<string, Function>;

test('plain, async, generator and computed-name methods give their parameter names', () => {
  assert.deepEqual(readParameterNames(proto.plain!), { params: ['a', 'b'], isOptional: [false, false] });
  assert.deepEqual(readParameterNames(proto.asyncOne!), { params: ['first', 'second'], isOptional: [false, false] });
  assert.deepEqual(readParameterNames(proto.none!), { params: [], isOptional: [] });
  assert.deepEqual(readParameterNames(proto.gen!), { params: ['step'], isOptional: [false] });
  assert.deepEqual(readParameterNames(proto.agen!), { params: ['step'], isOptional: [false] });
  assert.deepEqual(readParameterNames(proto['computed(x']!), { params: ['p'], isOptional: [false] });
});

test('defaults make a parameter optional, even defaults with commas, brackets and strings', () => {
  assert.deepEqual(readParameterNames(proto.withDefaults!), {
    params: ['a', 'b', 'c'],
    isOptional: [false, true, true],
  });
  assert.deepEqual(readParameterNames(proto.nestedDefault!), {
    params: ['a', 'b', 'c'],
    isOptional: [true, true, true],
  });
});

test('a rest parameter is reported apart from the named ones', () => {
  assert.deepEqual(readParameterNames(proto.rest!), { params: ['head'], isOptional: [false], restParam: 'tail' });
});

test('comments inside the parameter list are ignored', () => {
  assert.deepEqual(readParameterNames(proto.commented!), { params: ['a', 'b'], isOptional: [false, false] });
});

test('plain functions, arrow functions and bare-parameter arrows are read too', () => {
  assert.deepEqual(
    readParameterNames(function named(x: number, y = 1) {
      return x + y;
    }),
    { params: ['x', 'y'], isOptional: [false, true] },
  );
  assert.deepEqual(
    readParameterNames(async (x: number, y: number) => x + y),
    { params: ['x', 'y'], isOptional: [false, false] },
  );
  assert.deepEqual(readParameterNames(eval('(value => value)') as Function), {
    params: ['value'],
    isOptional: [false],
  });
  assert.deepEqual(readParameterNames(eval('(async value => value)') as Function), {
    params: ['value'],
    isOptional: [false],
  });
  assert.deepEqual(readParameterNames(eval('(async => async)') as Function), {
    params: ['async'],
    isOptional: [false],
  });
});

test('destructured parameters, native and bound functions cannot be read and say why', () => {
  assert.match(readParameterNames(proto.destructured!) as string, /parameter 1 is destructured/);
  assert.match(readParameterNames(proto.arrayDestructured!) as string, /parameter 1 is destructured/);
  assert.match(readParameterNames(proto.restDestructured!) as string, /rest parameter .* is destructured/);
  assert.match(readParameterNames(Math.max) as string, /native or bound/);
  assert.match(readParameterNames(proto.plain!.bind(null)) as string, /native or bound/);
});

test('a source whose names disagree with the function length is refused', () => {
  const fn = function (a: number, b: number) {
    return a + b;
  };
  Object.defineProperty(fn, 'length', { value: 3 });
  assert.match(readParameterNames(fn) as string, /do not match its length/);
});

test('explicit lists mark optional names with ? and the rest parameter with ...', () => {
  const fn = function (_x: unknown, _y?: unknown, ..._z: unknown[]) {};
  assert.deepEqual(parseExplicitNames(['a', 'b?', '...more'], fn), {
    params: ['a', 'b'],
    isOptional: [false, true],
    restParam: 'more',
  });
  assert.deepEqual(
    parseExplicitNames(['first-name'], function (_n: unknown) {}),
    { params: ['first-name'], isOptional: [false] },
  );
});

test('explicit lists with mistakes are refused with a reason', () => {
  const two = function (_a: unknown, _b: unknown) {};
  assert.throws(() => parseExplicitNames('a,b', two), /must be an array/);
  assert.throws(() => parseExplicitNames([1, 2], two), /must be strings/);
  assert.throws(() => parseExplicitNames(['a', 'a'], two), /appears twice/);
  assert.throws(() => parseExplicitNames(['...r', 'a'], two), /follows the rest parameter/);
  assert.throws(() => parseExplicitNames(['', 'b'], two), /not a valid parameter name/);
  assert.throws(() => parseExplicitNames(['a b', 'c'], two), /not a valid parameter name/);
  assert.throws(() => parseExplicitNames(['a'], two), /1 names given but the method declares 2/);
});
