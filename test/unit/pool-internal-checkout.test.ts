import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PoolEventMap } from '../../src/pool/events.js';
import { memoryPool } from '../support/pool-fixtures.js';

test('acquire({ internal: true }) marks its checkout and timeout events; the gate still gets what it admitted', async (t) => {
  const lentWith: unknown[] = [];
  const { pool } = memoryPool(
    { size: 1, maxOverflow: 0 },
    {},
    { gate: () => ({ admit: () => 'call-site', lent: (_entry, context) => lentWith.push(context) }) },
  );
  t.after(() => pool.close());
  const checkouts: PoolEventMap['checkout'][0][] = [];
  const timeouts: PoolEventMap['timeout'][0][] = [];
  pool.on('checkout', (event) => checkouts.push(event));
  pool.on('timeout', (event) => timeouts.push(event));

  const internal = await pool.acquire({ internal: true });
  internal.release();
  const caller = await pool.acquire();
  assert.deepEqual(
    checkouts.map((e) => e.internal),
    [true, undefined],
  );
  assert.deepEqual(lentWith, ['call-site', 'call-site'], 'leak detection sees the same trace either way');

  // The one connection is held: an internal checkout times out, and says so.
  await assert.rejects(pool.acquire({ internal: true, timeoutMs: 20 }), { code: 'POOL_TIMEOUT' });
  await assert.rejects(pool.acquire({ timeoutMs: 20 }), { code: 'POOL_TIMEOUT' });
  assert.deepEqual(
    timeouts.map((e) => e.internal),
    [true, undefined],
  );
  caller.release();
});
