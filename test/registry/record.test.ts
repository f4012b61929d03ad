import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/log.js';
import {
  advertisedAddress,
  globToRegExp,
  parseRecord,
  resolveDiscovery,
  ServiceView,
} from '../../src/registry/index.js';
import type { Instance } from '../../src/registry/index.js';

const good = {
  v: 1,
  id: 'AAAAAAAAAAAAAAAAAAAAAA',
  addr: '10.0.0.7:5555',
  services: ['math_service'],
  suites: ['secretbox'],
  codecs: ['json'],
  keyId: 0,
  workers: 1,
  weight: 100,
  draining: false,
};

test('a well-formed record parses; forged, oversized and unroutable ones are refused with why', () => {
  const parsed = parseRecord(JSON.stringify(good), good.id);
  assert.equal(typeof parsed, 'object');
  const cases: [unknown, RegExp][] = [
    [42, /not a string/],
    ['{', /not JSON/],
    ['[]', /not an object/],
    [JSON.stringify({ ...good, v: 2 }), /version/],
    [JSON.stringify({ ...good, id: 'short' }), /bad id/],
    [JSON.stringify({ ...good, addr: '0.0.0.0:5555' }), /routable/],
    [JSON.stringify({ ...good, addr: '[::]:5555' }), /routable/],
    [JSON.stringify({ ...good, addr: 'host:0' }), /routable/],
    [JSON.stringify({ ...good, addr: 'ev il:1' }), /routable/],
    [JSON.stringify({ ...good, services: [] }), /services/],
    [JSON.stringify({ ...good, services: ['a b'] }), /services/],
    [JSON.stringify({ ...good, services: ['x'.repeat(129)] }), /services/],
    [JSON.stringify({ ...good, weight: -1 }), /weight/],
    [JSON.stringify({ ...good, workers: 1.5 }), /workers/],
    [JSON.stringify({ ...good, zone: 'bad\nzone' }), /zone/],
    [JSON.stringify({ ...good, draining: 'yes' }), /draining/],
    [JSON.stringify({ ...good, version: 'x'.repeat(5000) }), /larger than 4096/],
  ];
  for (const [input, why] of cases) assert.match(parseRecord(input) as string, why, String(input).slice(0, 80));
  assert.equal(parseRecord(JSON.stringify(good), 'BBBBBBBBBBBBBBBBBBBBBB'), 'bad id', 'listed under another id');
  assert.equal(typeof parseRecord(JSON.stringify({ ...good, addr: '[fd00::1]:9' })), 'object');
});

test('globs follow Redis syntax over whole names', () => {
  const table: [string, string, boolean][] = [
    ['worker_*', 'worker_eu', true],
    ['worker_*', 'worker_eu.x', true],
    ['worker_*', 'math_service', false],
    ['w?rker', 'worker', true],
    ['worker_[a-e]u', 'worker_eu', true],
    ['worker_[^e]u', 'worker_eu', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    ['a.b', 'axb', false],
    ['[', '[', true],
  ];
  for (const [glob, name, expected] of table) assert.equal(globToRegExp(glob).test(name), expected, `${glob} ${name}`);
  assert.throws(() => globToRegExp(''), TypeError);
});

test('options: bad values are refused naming the option; a wildcard bind without advertise names --advertise', () => {
  const url = 'redis://127.0.0.1:6379';
  assert.throws(() => resolveDiscovery({ url, ttlMs: 500, heartbeatMs: 300 }, silentLogger), /ttlMs .*twice/);
  assert.throws(() => resolveDiscovery({ url, namespace: 'a b' }, silentLogger), /namespace/);
  assert.throws(() => resolveDiscovery({ url, nope: 1 } as never, silentLogger), /nope/);
  assert.throws(() => resolveDiscovery('http://x', silentLogger), { code: 'GAW_ERR_INVALID_OPTION' });
  const options = resolveDiscovery(url, silentLogger);
  assert.throws(() => advertisedAddress(options, '0.0.0.0', 5555), /--advertise/);
  assert.throws(() => advertisedAddress(options, '::', 5555), /--advertise/);
  assert.equal(advertisedAddress(options, '127.0.0.1', 5555), '127.0.0.1:5555');
  assert.equal(advertisedAddress(options, '::1', 5555), '[::1]:5555');
  const advertised = resolveDiscovery({ url, advertise: '10.1.2.3:7' }, silentLogger);
  assert.equal(advertisedAddress(advertised, '0.0.0.0', 5555), '10.1.2.3:7');
  assert.throws(
    () => advertisedAddress(resolveDiscovery({ url, advertise: '0.0.0.0:1' }, silentLogger), '::', 1),
    /--advertise/,
  );
});

function instance(id: string, isDraining = false): Instance {
  return {
    id,
    addr: `10.0.0.1:${id.length}`,
    host: '10.0.0.1',
    port: 1,
    weight: 100,
    codecs: ['json'],
    workers: 1,
    zone: undefined,
    version: undefined,
    isDraining,
  };
}

test('the flap guard holds a removal that empties or more than halves a service until confirmed', () => {
  const view = new ServiceView('s');
  assert.deepEqual(view.applyRead([instance('a'), instance('b'), instance('c'), instance('d')], false).held, false);
  // one of four goes: applied at once
  let result = view.applyRead([instance('a'), instance('b'), instance('c')], false);
  assert.equal(result.held, false);
  assert.deepEqual(
    result.events.map((e) => [e.type, e.instance.id]),
    [['down', 'd']],
  );
  // two of three at once: held, nothing removed
  result = view.applyRead([instance('a')], false);
  assert.equal(result.held, true);
  assert.equal(view.instances.size, 3);
  // the confirming read applies it
  result = view.applyRead([instance('a')], true);
  assert.equal(result.held, false);
  assert.deepEqual([...view.instances.keys()], ['a']);
  // emptying: held; removing a draining instance: never held
  assert.equal(view.remove(['a'], false).held, true);
  view.upsert(instance('a', true));
  assert.deepEqual(
    view.remove(['a'], false).events.map((e) => e.type),
    ['down'],
  );
  assert.equal(view.upsert(instance('n'))?.type, 'up');
  assert.equal(view.upsert(instance('n')), undefined, 'no event when nothing changed');
  assert.equal(view.upsert(instance('n', true))?.type, 'drain');
});
