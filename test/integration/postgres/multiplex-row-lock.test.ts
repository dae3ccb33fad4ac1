import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { learnShared } from '../../support/multiplex.js';
import { adminQuery, backendPids } from '../../support/postgres-activity.js';

/** Wait until `count` of the pool's backends wait on a lock. */
async function waitingOnLock(poolName: string, count: number): Promise<void> {
  for (let tries = 0; tries < 500; tries++) {
    const [row] = await adminQuery<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [`spillway:${poolName}`],
    );
    if (row?.n === count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${count} of the pool's statements never waited on a lock`);
}

describe('PostgreSQL multiplexing: a statement waiting on a row lock', () => {
  it("delays no other caller's statements: they are answered while it still waits", async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_row_lock');
    const table = uniqueName('sw_mux_row_lock');
    // Three connections, and more reads at once than fit on the two the update leaves: without care the
    // multiplexer would pipeline some of them behind the waiting update.
    const db = createPool({ url: POSTGRES_URL, name, size: 3, maxOverflow: 0, multiplex: { maxInFlight: 8 }, env: {} });
    const holder = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'spillway-test-admin' });
    await holder.connect();
    let holding = false;
    try {
      await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
      await db.query(`INSERT INTO ${table} SELECT g, 0 FROM generate_series(1, 50) g`);
      const read = `SELECT id, n FROM ${table} WHERE id = $1`;
      await learnShared(db, read, [2]);
      await learnShared(db, 'SELECT 1 AS one');
      // The update itself is known: it ran once without a lock.
      const update = `UPDATE ${table} SET n = n + 1 WHERE id = $1`;
      await db.query(update, [1]);

      await holder.query('BEGIN');
      await holder.query(`SELECT n FROM ${table} WHERE id = 1 FOR UPDATE`);
      holding = true;
      let updated = false;
      const blocked = db.query(update, [1]).then(() => {
        updated = true;
      });
      await waitingOnLock(name, 1);

      // Reads of known shapes, and statements never seen before, from many callers at once.
      const reads = [
        ...Array.from({ length: 40 }, (_, i) => db.query<{ id: number }>(read, [2 + (i % 40)]).then((r) => r.rows[0]!.id)),
        ...Array.from({ length: 10 }, () => db.query<{ one: number }>('SELECT 1 AS one').then((r) => r.rows[0]!.one)),
        db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`).then((r) => r.rows[0]!.n),
      ];
      // A safety valve only: should the reads hang behind the update, release the lock after a while so
      // the test fails on the ordering below rather than timing out.
      const valve = setTimeout(() => void holder.query('COMMIT').catch(() => undefined), 10_000);
      const answered = await Promise.all(reads);
      const updatedFirst = updated;
      clearTimeout(valve);
      assert.equal(updatedFirst, false, 'every read was answered while the update still waited on the lock');
      assert.deepEqual(
        answered.slice(0, 40),
        Array.from({ length: 40 }, (_, i) => 2 + (i % 40)),
      );
      assert.deepEqual(answered.slice(40), [...Array(10).fill(1), 50]);

      await holder.query('COMMIT');
      holding = false;
      await blocked;
      assert.deepEqual((await db.query<{ n: number }>(`SELECT n FROM ${table} WHERE id = 1`)).rows, [{ n: 2 }]);
      const shapes = db.multiplexer!.shapes(20);
      const write = shapes.find((s) => s.statement.startsWith('UPDATE'));
      assert.equal(write?.mode, 'exclusive', 'writes never share a pipeline');
      assert.equal(write?.sharedRuns, 0);
    } finally {
      if (holding) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.close();
    }
    assert.deepEqual(await backendPids(name), []);
  });
});
