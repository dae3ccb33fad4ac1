import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolTimeoutError } from '../../src/errors.js';
import { ManualClock } from '../support/manual-clock.js';
import { memoryPool, sleep } from '../support/pool-fixtures.js';

test('waiters are served strictly first come, first served', async () => {
  const { pool } = memoryPool({ size: 1, maxOverflow: 0 });
  const held = await pool.acquire();
  const order: number[] = [];
  const waits = [0, 1, 2, 3, 4].map((i) =>
    pool.acquire().then((lease) => {
      order.push(i);
      setImmediate(() => lease.release());
    }),
  );
  held.release();
  await Promise.all(waits);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  await pool.close();
});

test('a wait past the timeout rejects POOL_TIMEOUT with the pool status in the message', async () => {
  const clock = new ManualClock();
  const { pool } = memoryPool({ size: 1, maxOverflow: 1, checkoutTimeoutMs: 60 }, {}, { clock });
  const a = await pool.acquire();
  const b = await pool.acquire();
  let settled = false;
  const waiting = pool.acquire().then(
    () => assert.fail('should time out'),
    (e: unknown) => e,
  );
  void waiting.finally(() => {
    settled = true;
  });
  await clock.advance(59);
  assert.equal(settled, false, 'still waiting just before the timeout');
  await clock.advance(30); // the coarse-clock waiter deadline is one tick later at most
  const error = await waiting;
  assert.ok(error instanceof PoolTimeoutError);
  assert.equal(error.code, 'POOL_TIMEOUT');
  assert.match(error.message, /limit of size 1 overflow 1 reached, connection timed out, timeout \d+\.\d\ds/);
  assert.match(error.message, /checkedOut=2/);
  assert.match(error.message, /waiting=0/);
  assert.equal(pool.stats().timeouts, 1);
  a.release();
  b.release();
  await pool.close();
});

test('a shorter per-call timeout behind longer ones still fires on time', async () => {
  const clock = new ManualClock();
  const { pool } = memoryPool({ size: 1, maxOverflow: 0, checkoutTimeoutMs: 5000 }, {}, { clock });
  const held = await pool.acquire();
  const long = pool.acquire();
  const short = assert.rejects(pool.acquire({ timeoutMs: 40 }), { code: 'POOL_TIMEOUT' });
  await clock.advance(70);
  await short;
  assert.equal(pool.status().waiting, 1);
  held.release();
  (await long).release();
  await pool.close();
});

test('an AbortSignal ends the wait with ACQUIRE_ABORTED and frees the place in line', async () => {
  const { pool } = memoryPool({ size: 1, maxOverflow: 0 }, {}, { clock: new ManualClock() });
  const held = await pool.acquire();
  const controller = new AbortController();
  const aborted = pool.acquire({ signal: controller.signal });
  const next = pool.acquire();
  controller.abort();
  await assert.rejects(aborted, { code: 'ACQUIRE_ABORTED' });
  assert.equal(pool.status().waiting, 1);
  held.release();
  (await next).release();
  await assert.rejects(pool.acquire({ signal: AbortSignal.abort() }), { code: 'ACQUIRE_ABORTED' });
  assert.equal(pool.stats().aborts, 1);
  await pool.close();
});

test('a connect failure reaches the oldest waiter and is kept as the last connect error', async () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const { pool } = memoryPool({ size: 1, maxOverflow: 0, checkoutTimeoutMs: 50 }, { failConnect: () => refused });
  await assert.rejects(pool.acquire(), /ECONNREFUSED/);
  assert.equal(pool.lastConnectError, refused);
  assert.equal(pool.stats().connectFailures, 1);
  await pool.close();
});

test('a caller whose connection is being pinged still times out at its checkout deadline', async () => {
  let hang = false;
  const clock = new ManualClock();
  const { pool } = memoryPool(
    { size: 1, maxOverflow: 0, prePing: true, prePingBypassMs: 0, checkoutTimeoutMs: 100, connectTimeoutMs: 10_000 },
    { hangPing: () => hang },
    { clock },
  );
  (await pool.acquire()).release();
  await clock.advance(5);
  hang = true; // the next pre-ping goes into a dead network, bounded only by the connect timeout
  const pending = pool.acquire().then(
    () => assert.fail('should time out'),
    (e: unknown) => e,
  );
  await clock.advance(130); // the checkout deadline (plus a coarse tick), far before the ping would end
  const error = await pending;
  assert.ok(error instanceof PoolTimeoutError, String(error));
  assert.equal(pool.status().waiting, 0);
  await pool.close({ graceMs: 0 });
});

test('aborting a caller whose connection is being pinged leaves the queue count intact', async () => {
  let hang = false;
  const clock = new ManualClock();
  const { pool } = memoryPool({ size: 1, maxOverflow: 0, prePing: true, prePingBypassMs: 0 }, { hangPing: () => hang }, { clock });
  (await pool.acquire()).release();
  await clock.advance(5);
  hang = true;
  const controller = new AbortController();
  const pending = pool.acquire({ signal: controller.signal });
  await clock.advance(5);
  controller.abort();
  await assert.rejects(pending, (e: { code?: string }) => e.code === 'ACQUIRE_ABORTED');
  assert.equal(pool.status().waiting, 0);
  await pool.close({ graceMs: 0 });
});

test('a checkout served at once reports no wait, however old the coarse clock is', async () => {
  const { pool } = memoryPool({ size: 1, maxOverflow: 0 });
  (await pool.acquire()).release();
  const waits: number[] = [];
  pool.on('checkout', (event) => waits.push(event.waitMs));
  await sleep(5);
  // Block the event loop, so the coarse clock (refreshed by a timer) falls 30 ms behind.
  const until = performance.now() + 30;
  while (performance.now() < until) {}
  (await pool.acquire()).release();
  assert.deepEqual(waits, [0]);
  await pool.close();
});
