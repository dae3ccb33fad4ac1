import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeakReport } from '../../src/pool/leak-detector.js';
import type { CorePoolSettings } from '../../src/pool/pool.js';
import type { ResilienceConfig, ResilienceOptions } from '../../src/resilience/resilience.js';
import { ManualClock } from '../support/manual-clock.js';
import { memoryPool, resilienceFor } from '../support/pool-fixtures.js';

const circuit = { failureThreshold: 5, recoveryTimeoutMs: 30_000 };

/** A started in-memory pool born with leak detection (and a breaker that never opens here). */
function leakyPool(settings: Partial<CorePoolSettings>, config: ResilienceConfig, options?: ResilienceOptions) {
  const resilience = resilienceFor(config, () => false, options);
  // The sweep runs on a manual clock the tests step: nothing here sleeps on real time.
  const clock = new ManualClock();
  return { ...memoryPool(settings, {}, { gate: resilience.gate, clock }), resilience, clock };
}

test('a connection held past leakThresholdMs raises a leak event and a warning with the stack that took it', async () => {
  const warnings: string[] = [];
  const { pool, clock } = leakyPool(
    {},
    { circuit, leakThresholdMs: 40, leakAction: 'warn' },
    { warn: (message) => warnings.push(message) },
  );
  const leaks: LeakReport[] = [];
  pool.on('leak', (report) => leaks.push(report));
  const lease = await pool.acquire();
  const quick = await pool.acquire();
  quick.release();
  await clock.advance(30);
  assert.equal(leaks.length, 0, 'not yet past the threshold');
  await clock.advance(20);
  assert.equal(leaks.length, 1, 'reported by the sweep after leakThresholdMs');
  const [leak] = leaks;
  assert.equal(leak?.connectionId, lease.connectionId);
  assert.equal(leak?.poolName, 'test');
  assert.ok((leak?.heldMs ?? 0) >= 40);
  assert.match(leak?.stack ?? '', /leak-detector\.test\.ts/, 'the stack names the caller that took the connection');
  assert.match(warnings[0] ?? '', /Pool "test": connection \d+ held for \d+ms/);
  assert.equal(pool.stats().leaks, 1);
  await clock.advance(60);
  assert.equal(leaks.length, 1, 'one leak is reported once');
  assert.doesNotThrow(() => lease.connection, "'warn' leaves the connection with its holder");
  lease.release();
  await pool.close();
});

test("leakAction 'reclaim' takes the connection back: the holder's next use fails LEAK_RECLAIMED", async () => {
  const { pool, connector, clock } = leakyPool(
    { size: 1, maxOverflow: 0 },
    { circuit, leakThresholdMs: 30, leakAction: 'reclaim' },
    { warn: () => undefined },
  );
  const lease = await pool.acquire();
  const next = pool.acquire(); // waits for the only connection
  await clock.advance(40);
  const second = await next;
  assert.throws(
    () => lease.connection,
    (error: { code?: string }) => error.code === 'LEAK_RECLAIMED',
  );
  assert.doesNotThrow(() => lease.release(), 'releasing a reclaimed lease is harmless');
  assert.equal(connector.connections[0]?.open, false, 'the reclaimed connection is discarded, its state unknown');
  second.release();
  await pool.close();
});

test('with leak detection off no hook is installed, so checkouts capture nothing', async () => {
  const { pool } = leakyPool({}, { circuit, leakThresholdMs: 0, leakAction: 'warn' });
  assert.equal(pool.gate?.lent, undefined);
  await pool.close();
});

test("adaptive stacks: sampled until a first leak, then every checkout's stack is kept; 'always' keeps all", async () => {
  const { pool, clock } = leakyPool(
    { size: 3, maxOverflow: 0 },
    { circuit, leakThresholdMs: 30, leakAction: 'warn' },
    { warn: () => undefined },
  );
  const leaks: LeakReport[] = [];
  pool.on('leak', (report) => leaks.push(report));
  const sampled = await pool.acquire(); // the first checkout is always sampled
  sampled.release();
  const unsampled = await pool.acquire(); // the next 127 are not
  await clock.advance(40);
  assert.equal(leaks.length, 1, 'first leak');
  assert.equal(leaks[0]?.stack, undefined, 'no stack for an unsampled checkout');
  const afterLeak = await pool.acquire(); // a leak was seen: every checkout is captured now
  await clock.advance(40);
  assert.equal(leaks.length, 2, 'second leak');
  assert.match(leaks[1]?.stack ?? '', /leak-detector\.test\.ts/);
  unsampled.release();
  afterLeak.release();
  await pool.close();

  const always = leakyPool(
    { size: 2, maxOverflow: 0 },
    { circuit, leakThresholdMs: 30, leakAction: 'warn', leakStackTraces: 'always' },
    { warn: () => undefined },
  );
  const alwaysLeaks: LeakReport[] = [];
  always.pool.on('leak', (report) => alwaysLeaks.push(report));
  (await always.pool.acquire()).release();
  const second = await always.pool.acquire();
  await always.clock.advance(40);
  assert.equal(alwaysLeaks.length, 1, 'leak with always');
  assert.match(alwaysLeaks[0]?.stack ?? '', /leak-detector\.test\.ts/);
  second.release();
  await always.pool.close();
});
