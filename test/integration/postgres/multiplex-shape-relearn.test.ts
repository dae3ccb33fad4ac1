import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { PROBATION_RUNS } from '../../../src/dialect/postgres/postgres-shape-costs.js';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { adminQuery, backendPids } from '../../support/postgres-activity.js';

describe('PostgreSQL multiplexing: a statement fast 99 times, then slow once', () => {
  it('delays no other statement while the slow run lasts, runs the shape alone for a while after it, then pipelines it again', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('mux_relearn');
    const table = uniqueName('sw_mux_relearn');
    const other = uniqueName('sw_mux_relearn_other');
    const db = createPool({ url: POSTGRES_URL, name, size: 3, maxOverflow: 0, multiplex: { maxInFlight: 8 }, env: {} });
    const multiplexer = db.multiplexer!;
    const holder = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'spillway-test-admin' });
    await holder.connect();
    let holding = false;
    const lookup = `SELECT n FROM ${table} WHERE id = $1`;
    const shapeOf = () => multiplexer.shapes(50).find((s) => s.statement === lookup);
    try {
      await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL)`);
      await db.query(`CREATE TABLE ${other} (id int PRIMARY KEY)`);
      await db.query(`INSERT INTO ${table} SELECT g, g FROM generate_series(1, 100) g`);
      await db.query(`INSERT INTO ${other} SELECT g FROM generate_series(1, 100) g`);
      const otherLookup = `SELECT id FROM ${other} WHERE id = $1`;
      // 99 runs: ten callers at a time, as a service would run it.
      for (let batch = 0; batch < 9; batch++) await Promise.all(Array.from({ length: 11 }, (_, i) => db.query(lookup, [1 + i])));
      for (let i = 0; i < 10; i++) await db.query(otherLookup, [i + 1]);
      // (A loaded machine may stall one of them long enough for a probation: then it learns again.)
      for (let extra = 0; shapeOf()?.mode !== 'shared'; extra++) {
        assert.ok(extra < 100, 'the shape was never learned fast');
        await db.query(lookup, [1]);
      }
      assert.ok((shapeOf()?.runs as number) >= 99);

      // The 100th run waits: another transaction holds the table in ACCESS EXCLUSIVE mode.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      holding = true;
      let slowDone = false;
      const slow = db.query<{ n: number }>(lookup, [7]).then((r) => {
        slowDone = true;
        return r.rows[0]!.n;
      });
      // Until the server has made it wait a good while (well past the multiplexer's stuck bound).
      for (let tries = 0; ; tries++) {
        const [row] = await adminQuery<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND now() - query_start > interval '200 milliseconds'",
          [`spillway:${name}`],
        );
        if (row?.n === 1) break;
        assert.ok(tries < 500, 'the 100th run never waited on the lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Other callers' statements, many at once: none is put behind the waiting one.
      const others = await Promise.all([
        ...Array.from({ length: 30 }, (_, i) => db.query<{ id: number }>(otherLookup, [i + 1]).then((r) => r.rows[0]!.id)),
        ...Array.from({ length: 10 }, () => db.query<{ one: number }>('SELECT 1 AS one').then((r) => r.rows[0]!.one)),
      ]);
      assert.equal(slowDone, false, 'every other statement was answered while the slow run still waited');
      assert.deepEqual(others, [...Array.from({ length: 30 }, (_, i) => i + 1), ...Array(10).fill(1)]);
      assert.equal(shapeOf()?.reason, 'probation', 'stuck past the bound, the shape runs alone');

      await holder.query('COMMIT');
      holding = false;
      assert.equal(await slow, 7);

      // On probation its runs go alone, and are measured; then it is learned fast again.
      const before = shapeOf()!;
      let runs = 0;
      while (shapeOf()?.mode !== 'shared') {
        await db.query(lookup, [(runs % 100) + 1]);
        runs++;
        assert.ok(runs <= 200, 'the shape was never learned fast again');
      }
      const after = shapeOf()!;
      assert.ok(after.exclusiveRuns - before.exclusiveRuns >= PROBATION_RUNS, 'its probation ran alone');
      assert.equal(after.reason, undefined);
    } finally {
      if (holding) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await db.query(`DROP TABLE IF EXISTS ${table}`);
      await db.query(`DROP TABLE IF EXISTS ${other}`);
      await db.close();
    }
    assert.deepEqual(await backendPids(name), []);
  });
});
