import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, memoryPool } from '../support/pool-fixtures.js';

test('size + maxOverflow bounds the pool, and overflow connections close when returned to a full pool', async () => {
  const { pool, connector } = memoryPool({ size: 2, maxOverflow: 2 });
  const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
  assert.equal(pool.status().checkedOut, 4);
  assert.equal(pool.status().overflow, 2);
  assert.equal(connector.openCount, 4);
  const fifth = pool.acquire({ timeoutMs: 50 });
  await assert.rejects(fifth, { code: 'POOL_TIMEOUT' });
  assert.equal(connector.connections.length, 4, 'never more than size + maxOverflow');
  for (const lease of leases) lease.release();
  await eventually(() => pool.status().closing === 0);
  const status = pool.status();
  assert.equal(status.checkedIn, 2, 'a full pool keeps `size` idle connections');
  assert.equal(status.overflow, 0);
  assert.equal(pool.stats().closedByReason.overflow, 2);
  assert.equal(connector.openCount, 2);
  await pool.close();
});

test('idle connections are reused most recently used first', async () => {
  const { pool } = memoryPool({ size: 3, maxOverflow: 0 });
  const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  a!.release();
  b!.release();
  c!.release();
  const next = await pool.acquire();
  assert.equal(next.connectionId, c!.connectionId);
  next.release();
  await pool.close();
});
