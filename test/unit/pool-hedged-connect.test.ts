import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { ManualClock } from '../support/manual-clock.js';
import { memoryPool } from '../support/pool-fixtures.js';

/** Resolves with how long `promise` took, or with Infinity once `boundMs` passed (the test then fails, promptly). */
async function within(promise: Promise<unknown>, boundMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), boundMs);
  });
  const took = await Promise.race([promise.then(() => performance.now() - started), late]);
  clearTimeout(timer);
  return took;
}

// The in-memory connector stands in for the network: a dropped network cannot be made real here
// (the fault tests do that through the chaos proxy); this checks the pool's own scheduling.
test('callers waiting on connects swallowed by a dropped network are served soon after it comes back, not after connectTimeoutMs', async () => {
  let blackhole = true;
  // Pool time is a manual clock: the hedge's timers fire as the test steps it, whatever the machine's load.
  const clock = new ManualClock();
  const { pool, connector } = memoryPool(
    { size: 3, maxOverflow: 0, connectTimeoutMs: 30_000, checkoutTimeoutMs: 60_000 },
    { hangConnect: () => blackhole },
    { clock },
  );
  const waiting = Array.from({ length: 5 }, () => pool.acquire());
  let served = 0;
  for (const w of waiting.slice(0, 3)) void w.then(() => served++);
  await clock.advance(1000); // every slot now holds a stuck attempt
  assert.equal(pool.status().opening, 3);
  assert.equal(served, 0);
  blackhole = false;
  // All three slots come back (first come, first served), not just the one that hedged first, within
  // a second of pool time (the stuck attempts would hold their slots for the 30 s connect timeout).
  await clock.advance(1000);
  assert.equal(served, 3, 'served soon after the network came back');
  const leases = await Promise.all(waiting.slice(0, 3));
  assert.ok(connector.maxSockets <= 3, `never more than max sockets at once (saw ${connector.maxSockets})`);
  const stats = pool.stats();
  assert.ok(stats.connectsAbandoned > 0, 'stuck attempts were given up and replaced');
  assert.equal(stats.connectFailures, 0, 'a replaced attempt is not a connect failure');
  for (const lease of leases) lease.release();
  for (const lease of await Promise.all(waiting.slice(3))) lease.release();
  await pool.close({ graceMs: 0 });
  assert.equal(connector.pendingConnects, 0, 'no attempt left pending after close');
});

test('on a server merely slow to accept, the oldest attempt keeps its full connect timeout, so connects still succeed', async () => {
  const { pool, connector } = memoryPool(
    { size: 2, maxOverflow: 0, connectTimeoutMs: 10_000, checkoutTimeoutMs: 20_000 },
    { connectDelayMs: 1500 },
  );
  const leases = await Promise.all([pool.acquire(), pool.acquire()]);
  assert.equal(leases.length, 2);
  assert.equal(pool.stats().connectFailures, 0);
  assert.ok(connector.maxSockets <= 2, `never more than max sockets at once (saw ${connector.maxSockets})`);
  for (const lease of leases) lease.release();
  await pool.close();
});

test('close() cuts attempts still connecting instead of waiting out their connect timeout', async () => {
  const clock = new ManualClock();
  const { pool, connector } = memoryPool(
    { size: 2, maxOverflow: 0, connectTimeoutMs: 30_000, checkoutTimeoutMs: 60_000 },
    { hangConnect: () => true },
    { clock },
  );
  const waiting = [pool.acquire(), pool.acquire()].map((p) => p.catch((error: { code?: string }) => error.code));
  await clock.advance(50);
  const tookMs = await within(pool.close({ graceMs: 0 }), 10_000);
  assert.ok(tookMs < 10_000, 'close() returned without waiting for the 30 s connect timeout');
  assert.deepEqual(await Promise.all(waiting), ['POOL_CLOSED', 'POOL_CLOSED']);
  assert.equal(connector.pendingConnects, 0);
  assert.equal(connector.aborted, 2);
});
