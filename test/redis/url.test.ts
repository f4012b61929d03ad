import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl } from '../../src/redis/index.js';

test('redis URLs parse to a target whose label never shows the password', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['redis://h', { host: 'h', port: 6379, database: 0, isTls: false, path: undefined, label: 'redis://h:6379/0' }],
    ['redis://10.0.0.7:7000/3', { host: '10.0.0.7', port: 7000, database: 3, label: 'redis://10.0.0.7:7000/3' }],
    [
      'rediss://u:s3cret@r.example:6380/1',
      { isTls: true, username: 'u', password: 's3cret', label: 'rediss://u:***@r.example:6380/1' },
    ],
    ['redis://:p%40ss@h/0', { username: undefined, password: 'p@ss', label: 'redis://:***@h:6379/0' }],
    ['redis://[::1]:6379', { host: '::1', port: 6379 }],
    ['redis+unix:///tmp/r.sock', { path: '/tmp/r.sock', database: 0, label: 'redis+unix:///tmp/r.sock' }],
    [
      'unix:///var/run/redis.sock?db=2',
      { path: '/var/run/redis.sock', database: 2, label: 'unix:///var/run/redis.sock?db=2' },
    ],
    ['redis+unix://:pw@/tmp/r.sock', { path: '/tmp/r.sock', password: 'pw', label: 'redis+unix://:***@/tmp/r.sock' }],
  ];
  for (const [url, expected] of cases) {
    const target = parseRedisUrl(url);
    for (const [key, value] of Object.entries(expected))
      assert.deepEqual(target[key as keyof typeof target], value, `${url}: ${key}`);
    assert.doesNotMatch(target.label, /s3cret|p@ss|:pw@/);
  }
});

test('a bad registry URL is refused with a message naming the problem and never the password', () => {
  const cases: [unknown, RegExp][] = [
    [undefined, /must be a redis:\/\//],
    ['', /must be a redis:\/\//],
    ['http://h:1', /scheme "http"/],
    ['redis://:hunter2@h/x', /database "x"/],
    ['redis://:hunter2@h/0?x=1', /no query/],
    ['redis+unix://host/tmp/s', /has no host/],
    ['unix:///tmp/s?password=1', /unknown parameter "password"/],
    ['not a url', /not a URL/],
    [`redis://h/${'9'.repeat(9)}`, /database/],
    [`redis://h/${'x'.repeat(5000)}`, /longer than 4096/],
  ];
  for (const [url, message] of cases) {
    assert.throws(
      () => parseRedisUrl(url),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'GAW_ERR_INVALID_OPTION');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
      String(url),
    );
  }
});
