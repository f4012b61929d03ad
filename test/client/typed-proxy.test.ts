// The typed proxy is checked by the compiler: `npm test` builds this file with tsc first, and each
// expect-error directive below fails the build if the wrong call it marks ever type-checks. At run
// time the same calls go to a real server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GawClient } from '../../src/client/index.js';
import type { Remote } from '../../src/client/index.js';
import { GawServer } from '../../src/server/index.js';
import { entrypoint } from '../../src/server/index.js';

class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}

class GeometryService {
  static serviceName = 'geometry';
  #secret = 'never callable';

  @entrypoint
  add(a: number, b: number): number {
    return a + b;
  }

  @entrypoint
  async greet(name: string): Promise<string> {
    return `hello ${name} (${this.#secret.length})`;
  }

  @entrypoint
  origin(): { x: number; y: number } {
    const p = new Point();
    return { x: p.x, y: p.y };
  }
}

/** Compile-time only: every marked line must be a type error. */
export function wrongCalls(geometry: Remote<GeometryService>): void {
  // @ts-expect-error: a typo in the method name
  void geometry.ad(1, 2);
  // @ts-expect-error: a string where a number is declared
  void geometry.add('1', 2);
  // @ts-expect-error: too few arguments
  void geometry.add(1);
  // @ts-expect-error: the result is a promise of string, not a string
  const direct: string = geometry.greet('x');
  void direct;
  // @ts-expect-error: the awaited result is a string, not a number
  const wrong: Promise<number> = geometry.greet('x');
  void wrong;
}

test('a typed proxy calls the real methods and returns the real result types', async () => {
  const server = new GawServer({ port: 0 }).add(GeometryService);
  await server.listen();
  const client = new GawClient({ port: server.address.port });
  try {
    const geometry = client.service<GeometryService>('geometry');
    const sum: number = await geometry.add(2, 3);
    assert.equal(sum, 5);
    const greeting: string = await geometry.greet('ada');
    assert.equal(greeting, 'hello ada (14)');
    const origin: { x: number; y: number } = await geometry.origin();
    assert.deepEqual(origin, { x: 0, y: 0 });
  } finally {
    await client.close();
    await server.close();
  }
});
