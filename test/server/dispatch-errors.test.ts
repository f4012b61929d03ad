// What callers see when things go wrong: hostile method names, thrown values of every kind,
// ServiceError, notifications that throw, handler timeouts, and what goes to the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { Dispatcher } from '../../src/server/dispatch.js';
import { entrypoint } from '../../src/server/service.js';

interface LogLine {
  level: string;
  obj: any;
  msg: string | undefined;
}

function captureLogger(isDebug: boolean): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg });
  };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (level) => level !== 'debug' || isDebug,
  };
  return { logger, lines };
}

class Thrower {
  static serviceName = 'thrower';
  static entrypoints = ['raise', 'reject', 'serviceError', 'asyncServiceError', 'empty'];
  static thrown: unknown;
  raise() {
    throw Thrower.thrown;
  }
  async reject() {
    await null;
    throw Thrower.thrown;
  }
  serviceError() {
    throw new ServiceError(4004, 'no such item', { item: 'x' });
  }
  async asyncServiceError() {
    throw new ServiceError(-32099, 'custom range');
  }
  empty() {
    throw new TypeError();
  }
  notExposed() {
    return 'secret';
  }
}

type Reply = { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: any } };

async function callWith(dispatcher: Dispatcher, method: string, params?: unknown): Promise<Reply> {
  const message = params === undefined ? { jsonrpc: '2.0', method, id: 9 } : { jsonrpc: '2.0', method, params, id: 9 };
  return (await dispatcher.dispatch(message)) as Reply;
}

test('a ServiceError passes through with its code, message and data', async () => {
  const dispatcher = new Dispatcher().add(Thrower);
  assert.deepEqual(await callWith(dispatcher, 'thrower.serviceError'), {
    jsonrpc: '2.0',
    id: 9,
    error: { code: 4004, message: 'no such item', data: { item: 'x' } },
  });
  assert.deepEqual((await callWith(dispatcher, 'thrower.asyncServiceError')).error, {
    code: -32099,
    message: 'custom range',
  });
});

test('an Error thrown or rejected becomes -32000 with its name and message, its stack only in the log', async () => {
  const { logger, lines } = captureLogger(false);
  const dispatcher = new Dispatcher({ logger }).add(Thrower);
  Thrower.thrown = new RangeError('out of range');
  for (const method of ['thrower.raise', 'thrower.reject']) {
    const { error } = await callWith(dispatcher, method);
    assert.deepEqual(error, {
      code: -32000,
      message: 'out of range',
      data: { name: 'RangeError', message: 'out of range' },
    });
  }
  const warnings = lines.filter((line) => line.level === 'warn');
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0]!.obj.err, Thrower.thrown);
  assert.equal(warnings[0]!.obj.method, 'thrower.raise');
  assert.match(String(warnings[0]!.obj.err.stack), /RangeError: out of range/);
});

test('with exposeStack the stack is sent in the error data', async () => {
  const dispatcher = new Dispatcher({ exposeStack: true }).add(Thrower);
  Thrower.thrown = new Error('visible');
  const { error } = await callWith(dispatcher, 'thrower.raise');
  assert.match(error!.data.stack, /Error: visible\n\s+at /);
});

test('an Error with an empty message is described by its name', async () => {
  const dispatcher = new Dispatcher().add(Thrower);
  assert.deepEqual((await callWith(dispatcher, 'thrower.empty')).error, {
    code: -32000,
    message: 'TypeError',
    data: { name: 'TypeError', message: '' },
  });
});

test('a handler that throws a non-Error value still gets a -32000 reply with a safe description', async () => {
  const dispatcher = new Dispatcher().add(Thrower);
  const hostile = Object.defineProperty({}, 'message', {
    get() {
      throw new Error('getter');
    },
  });
  const cases: [unknown, string, string][] = [
    ['plain string', 'string', 'plain string'],
    [undefined, 'undefined', 'the handler threw undefined'],
    [null, 'null', 'the handler threw null'],
    [42, 'number', 'the handler threw number 42'],
    [false, 'boolean', 'the handler threw boolean false'],
    [10n, 'bigint', 'the handler threw bigint 10'],
    [Symbol('s'), 'symbol', 'the handler threw a symbol'],
    [() => 1, 'function', 'the handler threw a function'],
    [{ name: 'Custom', message: 'error-like' }, 'Custom', 'error-like'],
    [{ code: 1 }, 'object', 'the handler threw an object that is not an Error'],
    [hostile, 'unknown', 'the handler threw a value that could not be described'],
    ['x'.repeat(20_000), 'string', `${'x'.repeat(10_000)}…`],
  ];
  for (const [thrown, name, message] of cases) {
    Thrower.thrown = thrown;
    for (const method of ['thrower.raise', 'thrower.reject']) {
      const { error } = await callWith(dispatcher, method);
      assert.deepEqual(error, { code: -32000, message, data: { name, message } }, `${method} throwing ${String(name)}`);
    }
  }
});

test('a per-call constructor that throws is a -32000 reply', async () => {
  class Fragile {
    static serviceName = 'fragile';
    constructor() {
      throw new Error('cannot construct');
    }
    @entrypoint ping() {
      return 'pong';
    }
  }
  const { error } = await callWith(new Dispatcher().add(Fragile), 'fragile.ping');
  assert.equal(error?.code, -32000);
  assert.equal(error?.message, 'cannot construct');
});

test('notifications are never answered, even when the handler throws or the method or params are wrong', async () => {
  const { logger, lines } = captureLogger(false);
  const dispatcher = new Dispatcher({ logger }).add(Thrower);
  Thrower.thrown = new Error('notified failure');
  for (const method of ['thrower.raise', 'thrower.reject', 'thrower.serviceError', 'thrower.missing', 'constructor']) {
    assert.equal(await dispatcher.dispatch({ jsonrpc: '2.0', method }), undefined, method);
  }
  assert.equal(await dispatcher.dispatch({ jsonrpc: '2.0', method: 'thrower.raise', params: [1, 2] }), undefined);
  assert.equal(await dispatcher.dispatch({ jsonrpc: '2.0', method: 'thrower.raise', params: { a: 1 } }), undefined);
  assert.equal(lines.filter((line) => line.level === 'warn').length, 2, 'the two failing handlers were logged');
});

test('hostile method names are -32601 with a short, single-line message', async () => {
  class Plain {
    static serviceName = 'plain';
    @entrypoint ok() {
      return 'ok';
    }
    notExposed() {
      return 'secret';
    }
  }
  for (const dispatcher of [new Dispatcher().add(Plain), new Dispatcher().add(Plain).add(Thrower)]) {
    const names = [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'then',
      'valueOf',
      'isPrototypeOf',
      '__defineGetter__',
      'plain.constructor',
      'plain.__proto__',
      'plain.toString',
      'plain.hasOwnProperty',
      'plain.then',
      'plain.notExposed',
      'thrower.notExposed',
      'notExposed',
      'plain.',
      '.ok',
      'plain..ok',
      '',
      '.',
      'rpc.',
      'rpc.constructor',
      'rpc.__proto__',
      'plain.ok\n',
      'line\nbreak',
      'x'.repeat(1024 * 1024),
      `plain.${'y'.repeat(100_000)}\n\r\u2028`,
    ];
    for (const method of names) {
      const reply = await callWith(dispatcher, method);
      assert.equal(
        reply.error?.code,
        -32601,
        `${JSON.stringify(method.slice(0, 40))}: ${JSON.stringify(reply).slice(0, 200)}`,
      );
      assert.ok(reply.error!.message.length < 120, 'the message is short');
      assert.ok(!/[\n\r\u2028]/.test(reply.error!.message), 'the message is one line');
      assert.equal(reply.id, 9);
    }
  }
});

test('a service that really exposes then or toString can be called by those names', async () => {
  class Awkward {
    static serviceName = 'awkward';
    static entrypoints = ['then', 'toString'];
    then() {
      return 'then called';
    }
    toString() {
      return 'toString called';
    }
  }
  const dispatcher = new Dispatcher().add(Awkward);
  assert.equal((await callWith(dispatcher, 'awkward.then')).result, 'then called');
  assert.equal((await callWith(dispatcher, 'toString')).result, 'toString called');
});

test('a handler past handlerTimeoutMs gets -32003 and its late result or rejection is dropped', async () => {
  const { logger, lines } = captureLogger(false);
  let finish: (value: string) => void = () => {};
  let fail: (err: Error) => void = () => {};
  class Slow {
    static serviceName = 'slow';
    @entrypoint hang() {
      return new Promise<string>((resolve) => {
        finish = resolve;
      });
    }
    @entrypoint hangThenFail() {
      return new Promise<string>((_resolve, reject) => {
        fail = reject;
      });
    }
    @entrypoint async quick() {
      return 'quick';
    }
    @entrypoint sync() {
      return 'sync';
    }
  }
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const dispatcher = new Dispatcher({ logger, handlerTimeoutMs: 30 }).add(Slow);
    assert.equal((await callWith(dispatcher, 'slow.quick')).result, 'quick');
    assert.equal((await callWith(dispatcher, 'slow.sync')).result, 'sync');
    const timedOut = await callWith(dispatcher, 'slow.hang');
    assert.deepEqual(timedOut.error, {
      code: -32003,
      message: 'Handler timeout: slow.hang did not finish within 30 ms',
    });
    finish('too late');
    const failed = await callWith(dispatcher, 'slow.hangThenFail');
    assert.equal(failed.error?.code, -32003);
    fail(new Error('late failure'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
    assert.equal(lines.filter((line) => line.level === 'warn' && /timed out/.test(line.msg ?? '')).length, 2);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('each call is logged at debug with method, duration and outcome, and not at all when debug is off', async () => {
  const on = captureLogger(true);
  const dispatcher = new Dispatcher({ logger: on.logger }).add(Thrower);
  Thrower.thrown = new Error('x');
  await callWith(dispatcher, 'thrower.serviceError');
  await callWith(dispatcher, 'thrower.raise');
  await callWith(dispatcher, 'thrower.missing\nname');
  await callWith(dispatcher, 'rpc.ping', [1]);
  await callWith(dispatcher, 'rpc.ping');
  const calls = on.lines.filter((line) => line.level === 'debug');
  assert.deepEqual(
    calls.map((line) => [line.obj.method, line.obj.outcome]),
    [
      ['thrower.serviceError', 'service error'],
      ['thrower.raise', 'handler error'],
      ['"thrower.missing\\nname"', 'method not found'],
      ['rpc.ping', 'invalid params'],
      ['rpc.ping', 'ok'],
    ],
  );
  for (const line of calls) assert.equal(typeof line.obj.durationMs, 'number');
  const off = captureLogger(false);
  const quiet = new Dispatcher({ logger: off.logger }).add(Thrower);
  await callWith(quiet, 'rpc.ping');
  assert.equal(off.lines.length, 0);
});

test('handle() never rejects, even when the logger throws', async () => {
  const explode = () => {
    throw new Error('logger broke');
  };
  const logger: Logger = { debug: explode, info: explode, warn: explode, error: explode };
  const dispatcher = new Dispatcher({ logger }).add(Thrower);
  Thrower.thrown = new Error('x');
  assert.deepEqual(await callWith(dispatcher, 'thrower.raise'), {
    jsonrpc: '2.0',
    id: 9,
    error: { code: -32603, message: 'Internal error' },
  });
  assert.deepEqual(await callWith(dispatcher, 'thrower.reject'), {
    jsonrpc: '2.0',
    id: 9,
    error: { code: -32603, message: 'Internal error' },
  });
  // A success is logged once its reply is ready: a logger that throws then costs nothing.
  assert.deepEqual(await callWith(dispatcher, 'rpc.ping'), { jsonrpc: '2.0', id: 9, result: 'pong' });
  const batch = await dispatcher.dispatch([
    { jsonrpc: '2.0', method: 'rpc.ping', id: 1 },
    { jsonrpc: '2.0', method: 'thrower.raise', id: 2 },
    { jsonrpc: '2.0', method: 'thrower.reject' },
  ]);
  assert.deepEqual(batch, [
    { jsonrpc: '2.0', id: 1, result: 'pong' },
    { jsonrpc: '2.0', id: 2, error: { code: -32603, message: 'Internal error' } },
  ]);
});
