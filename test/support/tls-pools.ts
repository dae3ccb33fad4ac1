import assert from 'node:assert/strict';
import { after } from 'node:test';
import { createPool } from '../../src/create-pool.js';
import type { Database } from '../../src/database.js';
import { SpillwayError } from '../../src/errors.js';

type Options = Parameters<typeof createPool>[0] & object;

/**
 * For TLS tests: small pools with nothing in the background (no health checks, metrics, tracing or
 * start-up retries) and an empty environment, each closed when the test file ends.
 */
export function testPools(): (url: string, extra?: Options) => Database {
  const pools: Database[] = [];
  after(async () => {
    await Promise.all(pools.map((db) => db.close({ graceMs: 0 })));
  });
  return (url, extra = {}) => {
    const db = createPool({
      url,
      size: 1,
      maxOverflow: 0,
      healthCheckIntervalMs: 0,
      initializationTimeoutMs: 0,
      metrics: false,
      tracing: false,
      env: {},
      ...extra,
    });
    pools.push(db);
    return db;
  };
}

/** The SpillwayError `promise` rejects with; fails the test when it resolves or rejects with something else. */
export async function spillwayRejection(promise: Promise<unknown>): Promise<SpillwayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SpillwayError, `expected a SpillwayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

type Disposable = { stop(): Promise<void> } | { close(): Promise<void> } | { remove(): void };

/** Stop servers, close proxies and remove PKI dirs, all of them even when one fails. */
export async function disposeAll(...things: (Disposable | undefined)[]): Promise<void> {
  await Promise.allSettled(
    things.map(async (thing) => {
      if (thing === undefined) return;
      if ('stop' in thing) await thing.stop();
      else if ('close' in thing) await thing.close();
      else thing.remove();
    }),
  );
}
