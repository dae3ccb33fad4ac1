import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitOpenError } from '../../src/errors.js';
import { memoryPool } from '../support/pool-fixtures.js';

test('tryAcquire lends the connection just returned, on the caller stack, and counts it as a checkout', async () => {
  const { pool } = memoryPool({ size: 3, maxOverflow: 0 });
  const first = await pool.acquire();
  const second = await pool.acquire();
  const firstId = first.connection.id;
  second.release();
  first.release();
  const checkouts = pool.stats().checkouts;
  for (let i = 0; i < 5; i++) {
    const lease = pool.tryAcquire();
    assert.ok(lease, 'an idle connection is lent at once');
    assert.equal(lease.connection.id, firstId, 'the newest idle one, every time');
    lease.release();
  }
  assert.equal(pool.stats().checkouts, checkouts + 5);
  assert.equal(pool.status().checkedOut, 0);
  await pool.close();
});

test('tryAcquire declines (undefined) where acquire() would wait, and never jumps the queue', async () => {
  const { pool } = memoryPool({ size: 1, maxOverflow: 0 });
  assert.equal(pool.tryAcquire(), undefined, 'nothing idle yet: acquire() opens one');
  const held = await pool.acquire();
  assert.equal(pool.tryAcquire(), undefined, 'everything lent');
  const waiting = pool.acquire();
  held.release(); // served to the waiter, not left idle
  const served = await waiting;
  assert.equal(pool.tryAcquire(), undefined);
  served.release();
  await pool.close();
  assert.equal(pool.tryAcquire(), undefined, 'a closed pool lends nothing');
});

test('tryAcquire goes through the gate: an open circuit refuses at once', async () => {
  let admitted = 0;
  const { pool } = memoryPool(
    { size: 1, maxOverflow: 0 },
    {},
    {
      gate: (self) => ({
        admitShared: () => {
          admitted++;
          if (admitted > 1) throw new CircuitOpenError(self.name, 100, undefined);
        },
      }),
    },
  );
  (await pool.acquire()).release();
  const lease = pool.tryAcquire();
  assert.ok(lease);
  lease.release();
  assert.throws(
    () => pool.tryAcquire(),
    (error: unknown) => error instanceof CircuitOpenError,
  );
  assert.equal(pool.status().checkedIn, 1, 'a refused call takes nothing');
  await pool.close();
});
