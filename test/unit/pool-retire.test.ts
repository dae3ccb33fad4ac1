// The core's hooks for a pool that times each connection itself (the pg.Pool facade): retire(),
// hedgeConnects: false and closingHoldsSlot: false. The in-memory connector stands in for the database:
// only the pool's own bookkeeping is under test here (the facade's behaviour on PostgreSQL is tested
// against pg.Pool itself in test/integration/postgres/pg-pool-compat.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../support/manual-clock.js';
import { eventually, memoryPool } from '../support/pool-fixtures.js';

test('retire() closes an idle connection at once, counted by its reason', async () => {
  const { pool, connector } = memoryPool({ size: 2, maxOverflow: 0 });
  const lease = await pool.acquire();
  const connection = lease.connection;
  lease.release();
  const closes: string[] = [];
  pool.on('close', (event) => closes.push(event.reason));
  assert.equal(pool.care.retire(connection, 'idle'), true);
  assert.equal(pool.status().checkedIn, 0, 'no longer idle as retire() returns');
  assert.equal(pool.status().closing, 1);
  assert.deepEqual(closes, ['idle']);
  await eventually(() => connector.openCount === 0, 2000, 'connection closed');
  assert.equal(pool.care.retire(connection, 'idle'), false, 'a connection the pool no longer holds');
  await pool.close();
});

test('retire() of a lent connection recycles it at its return, not before', async () => {
  const { pool, connector } = memoryPool({ size: 1, maxOverflow: 0 });
  const lease = await pool.acquire();
  const connection = lease.connection;
  assert.equal(pool.care.retire(connection, 'idle'), false, 'not idle: idle removal does not apply');
  assert.equal(pool.care.retire(connection, 'recycled'), true);
  assert.equal(pool.status().checkedOut, 1, 'still lent');
  assert.equal(connector.openCount, 1);
  lease.release();
  assert.equal(pool.status().checkedIn, 0);
  assert.equal(pool.stats().recycled, 1);
  await eventually(() => connector.openCount === 0, 2000, 'connection closed');
  const next = await pool.acquire();
  assert.notEqual(next.connection, connection, 'a new connection');
  next.release();
  await pool.close();
});

test('hedgeConnects: false keeps one attempt per caller while a connect hangs', async () => {
  for (const hedgeConnects of [true, false]) {
    const clock = new ManualClock();
    const { pool, connector } = memoryPool(
      { size: 3, maxOverflow: 0, connectTimeoutMs: 30_000, checkoutTimeoutMs: 0, hedgeConnects },
      { hangConnect: () => true },
      { clock },
    );
    const waiting = pool.acquire().catch((error: { code?: string }) => error.code);
    await clock.advance(600); // past the 200 ms after which a hedging pool starts another attempt
    if (hedgeConnects) {
      assert.ok(pool.stats().connectsAbandoned + connector.pendingConnects > 1, 'a hedged attempt');
    } else {
      assert.equal(connector.pendingConnects, 1);
      assert.equal(pool.stats().connectsAbandoned, 0);
    }
    await pool.close({ graceMs: 0 });
    assert.equal(await waiting, 'POOL_CLOSED');
  }
});

test('closingHoldsSlot: false frees the slot as the close begins, so a waiter gets a new connection at once', async () => {
  for (const closingHoldsSlot of [true, false]) {
    const { pool, connector } = memoryPool({ size: 1, maxOverflow: 0, closingHoldsSlot });
    const lease = await pool.acquire();
    lease.release(new Error('discard'));
    assert.equal(pool.status().closing, 1);
    const next = pool.acquire();
    // Opening starts on the caller's stack when the slot is free; otherwise only after the close.
    assert.equal(pool.status().opening, closingHoldsSlot ? 0 : 1, `closingHoldsSlot ${closingHoldsSlot}`);
    (await next).release();
    assert.ok(connector.maxSockets <= (closingHoldsSlot ? 1 : 2));
    await pool.close();
  }
});
