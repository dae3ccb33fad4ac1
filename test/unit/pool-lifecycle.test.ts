import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, settle } from '../support/manual-clock.js';
import { eventually, memoryPool } from '../support/pool-fixtures.js';

// Pool time is a manual clock stepped by the tests: nothing here sleeps on real time.

test('connections older than recycleMs are closed instead of lent, with jitter below the limit', async () => {
  const clock = new ManualClock();
  const { pool, connector } = memoryPool({ size: 1, maxOverflow: 0, recycleMs: 40 }, {}, { clock });
  const recycled: number[] = [];
  pool.on('recycle', (e) => recycled.push(e.connectionId));
  const first = await pool.acquire();
  const firstId = first.connectionId;
  first.release();
  await clock.advance(39 * 0.975); // below the limit less its largest jitter: kept
  const same = await pool.acquire();
  assert.equal(same.connectionId, firstId);
  same.release();
  await clock.advance(2);
  const second = await pool.acquire();
  assert.notEqual(second.connectionId, firstId);
  assert.deepEqual(recycled, [firstId]);
  assert.equal(pool.stats().recycled, 1);
  assert.equal(connector.connections[0]!.open, false);
  second.release();
  await pool.close();
});

test('maxUses closes a connection after that many checkouts', async () => {
  const { pool } = memoryPool({ size: 1, maxOverflow: 0, maxUses: 2 });
  const ids: number[] = [];
  for (let i = 0; i < 4; i++) {
    const lease = await pool.acquire();
    ids.push(lease.connectionId);
    lease.release();
  }
  assert.deepEqual(ids, [ids[0], ids[0], ids[2], ids[2]]);
  assert.notEqual(ids[0], ids[2]);
  await pool.close();
});

test('minIdle connections open at start and are topped up; idle ones above minIdle close after idleTimeoutMs', async () => {
  const clock = new ManualClock();
  const { pool, connector } = memoryPool(
    { size: 4, maxOverflow: 0, minIdle: 2, idleTimeoutMs: 30, housekeepingIntervalMs: 10 },
    {},
    { clock },
  );
  await settle();
  assert.equal(pool.status().checkedIn, 2, 'minIdle opened at start');
  const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
  for (const lease of leases) lease.release();
  assert.equal(pool.status().checkedIn, 4);
  await clock.advance(25);
  assert.equal(pool.status().total, 4, 'not idle long enough yet');
  await clock.advance(20); // the housekeeper's pass after idleTimeoutMs
  assert.equal(pool.status().total, 2, 'idle above minIdle reaped');
  assert.equal(pool.stats().closedByReason.idle, 2);
  // A connection that dies is replaced to keep minIdle.
  connector.kill(connector.connections.find((c) => c.open)!);
  await eventually(() => pool.status().checkedIn === 2 && connector.openCount === 2, 1000, 'top-up');
  await pool.close();
});

test('pre-ping is skipped within the bypass window and a failed ping tries the next connection', async () => {
  let failIds = new Set<number>();
  const clock = new ManualClock();
  const { pool, connector } = memoryPool(
    { size: 3, maxOverflow: 0, prePing: true, prePingBypassMs: 20 },
    { failPing: (c) => failIds.has(c.id) },
    { clock },
  );
  const a = await pool.acquire();
  a.release();
  const again = await pool.acquire();
  assert.equal(connector.pings, 0, 'used moments ago: no ping');
  again.release();
  await clock.advance(19);
  const stillFresh = await pool.acquire();
  assert.equal(connector.pings, 0, 'still inside the bypass window');
  stillFresh.release();
  await clock.advance(20);
  failIds = new Set([a.connectionId]);
  const b = await pool.acquire();
  // The failed ping is a disconnect, so connections from that instant on are validated too: on a
  // clock that has not moved, the replacement opened at that very instant is pinged once as well.
  assert.ok(connector.pings >= 1);
  assert.notEqual(b.connectionId, a.connectionId, 'the dead connection was discarded');
  assert.equal(pool.stats().pingFailures, 1);
  b.release();
  await pool.close();
});

test('a disconnect on one connection makes every older idle connection validate before reuse', async () => {
  const { pool, connector } = memoryPool({ size: 3, maxOverflow: 0, prePing: false });
  const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  const [first, ...others] = leases;
  for (const lease of others) lease.release();
  // The server restarted: every connection is dead, and one borrower finds out.
  for (const c of connector.connections) c.open = false;
  first!.release(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  const pingsBefore = connector.pings;
  const fresh = await pool.acquire();
  assert.ok(connector.pings > pingsBefore, 'idle connections were validated despite prePing=false');
  assert.ok(!leases.some((l) => l.connectionId === fresh.connectionId), 'no dead connection was lent');
  fresh.release();
  await pool.close();
});

test('an error on an idle connection never crashes the process: it is discarded and replaced', async () => {
  const { pool, connector } = memoryPool({ size: 2, maxOverflow: 0, minIdle: 1 });
  await eventually(() => pool.status().checkedIn === 1);
  connector.kill(connector.connections[0]!); // no 'error' listener attached
  await eventually(() => connector.openCount === 1 && connector.connections.length === 2, 1000, 'replacement');
  assert.equal(pool.stats().invalidated, 1);
  const lease = await pool.acquire();
  assert.equal(lease.connectionId, 2);
  lease.release();
  await pool.close();
});

test('return rolls back an open transaction; release(err) discards; a second release throws', async () => {
  const { pool, connector } = memoryPool({ size: 1, maxOverflow: 0 });
  const lease = await pool.acquire();
  lease.connection.inTransaction = true;
  lease.release();
  await eventually(() => pool.status().checkedIn === 1);
  assert.equal(connector.resets, 1);
  assert.equal(connector.connections[0]!.inTransaction, false);
  assert.throws(() => lease.release(), { code: 'RELEASED_TWICE' });
  const second = await pool.acquire();
  assert.equal(second.connectionId, lease.connectionId);
  second.release(new Error('broken'));
  await eventually(() => pool.status().total === 0);
  assert.equal(connector.connections[0]!.open, false);
  assert.equal(pool.stats().invalidated, 1);
  await pool.close();
});

test('close stops checkouts, waits for borrowed connections within the grace, closes all, and is idempotent', async () => {
  const clock = new ManualClock();
  const { pool, connector } = memoryPool({ size: 2, maxOverflow: 0 }, {}, { clock });
  const held = await pool.acquire();
  const idle = await pool.acquire();
  const waiter = pool.acquire();
  idle.release(); // goes to the waiter
  const lent = await waiter;
  const queued = pool.acquire();
  clock.setTimeout(() => held.release(), 30);
  clock.setTimeout(() => lent.release(), 40);
  const closing = pool.close({ graceMs: 1000 });
  assert.equal(pool.close(), closing, 'idempotent');
  await assert.rejects(pool.acquire(), { code: 'POOL_CLOSED' });
  await assert.rejects(queued, { code: 'POOL_CLOSED' });
  assert.equal(connector.openCount, 2, 'borrowed connections are not closed under their holders');
  await clock.advance(40);
  await closing;
  assert.equal(connector.openCount, 0);
  assert.equal(pool.status().total, 0);
});

test('close force-closes connections still borrowed after the grace', async () => {
  const clock = new ManualClock();
  const { pool, connector } = memoryPool({ size: 1, maxOverflow: 0 }, {}, { clock });
  const held = await pool.acquire();
  const closing = pool.close({ graceMs: 20 });
  await clock.advance(19);
  assert.equal(connector.openCount, 1, 'within the grace the holder keeps it');
  await clock.advance(1);
  await closing;
  assert.equal(connector.openCount, 0);
  assert.throws(() => held.connection, { code: 'POOL_CLOSED' });
  held.release(); // a late release after close is harmless
});
