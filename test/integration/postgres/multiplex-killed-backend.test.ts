import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool, type Database, type SpillwayError } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { learnShared } from '../../support/multiplex.js';
import { adminQuery, backendPids, InFlightCounter } from '../../support/postgres-activity.js';

describe('PostgreSQL multiplexing: a killed backend', () => {
  let db: Database;
  const name = uniqueName('mux_kill');
  const table = uniqueName('sw_mux_kill');
  const gate = uniqueName('sw_mux_kill_gate');
  const insertRow = uniqueName('sw_mux_kill_insert');
  /** A write the multiplexer pipelines: by its text a read, learned fast (writes proper always run alone). */
  const statement = `SELECT ${insertRow}($1) AS pid FROM ${gate}`;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    db = createPool({ url: POSTGRES_URL, name, size: 2, maxOverflow: 0, multiplex: { maxInFlight: 5 }, env: {} });
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, pid int NOT NULL)`);
    await db.query(`CREATE TABLE ${gate} (x int)`);
    await db.query(`INSERT INTO ${gate} VALUES (1)`);
    await db.query(
      `CREATE FUNCTION ${insertRow}(i int) RETURNS int LANGUAGE sql AS $$ INSERT INTO ${table} (id, pid) VALUES (i, pg_backend_pid()) RETURNING pid $$`,
    );
  });

  after(async () => {
    if (!ready) return;
    await db.query(`DROP FUNCTION IF EXISTS ${insertRow}(int)`);
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.query(`DROP TABLE IF EXISTS ${gate}`);
    await db.close();
    assert.deepEqual(await backendPids(name), [], 'no server connection left after close()');
  });

  it("fails only that connection's statements with CONNECTION_LOST; the other connection's, those not yet sent and later calls succeed", async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    await learnShared(db, statement, (run) => [1000 + run]);
    await db.query(`DELETE FROM ${table}`);
    const counter = new InFlightCounter();
    db.on('checkout', counter.onCheckout).on('checkin', counter.onCheckin);
    // A lock on the gate table held elsewhere keeps every statement waiting at the head of its
    // pipeline, so the kill below lands while ten are in flight, five on each of the two connections,
    // and two more wait unsent (every connection is at its bound).
    const lockHolder = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'spillway-test-admin' });
    await lockHolder.connect();
    await lockHolder.query('BEGIN');
    await lockHolder.query(`LOCK TABLE ${gate} IN ACCESS EXCLUSIVE MODE`);
    const calls = Array.from({ length: 12 }, (_, i) => db.query<{ pid: number }>(statement, [i]));
    const settling = Promise.allSettled(calls);
    let pids: number[] = [];
    for (let tries = 0; tries < 500 && pids.length < 2; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      pids = (
        await adminQuery<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' ORDER BY pid",
          [`spillway:${name}`],
        )
      ).map((r) => r.pid);
    }
    assert.equal(pids.length, 2, 'both connections wait on the lock');
    const victim = pids[0]!;
    await adminQuery('SELECT pg_terminate_backend($1)', [victim]);
    await lockHolder.query('COMMIT');
    await lockHolder.end();

    const settled = await settling;
    const lost = settled.filter((r) => r.status === 'rejected');
    const done = settled.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ rows: { pid: number }[] }>[];
    for (const r of lost) assert.equal(((r as PromiseRejectedResult).reason as SpillwayError).code, 'CONNECTION_LOST');
    assert.equal(lost.length, 5, 'the killed connection failed its five statements');
    assert.equal(done.length, 7, "the other connection's five statements and the two not yet sent succeeded");
    assert.deepEqual(
      settled.slice(10).map((r) => r.status),
      ['fulfilled', 'fulfilled'],
      'the statements not yet sent moved to another connection',
    );
    for (const r of done) assert.notEqual(r.value.rows[0]!.pid, victim, 'no statement succeeded on the killed backend');
    assert.equal(counter.maxPerConnection, 5, 'in flight per connection reached, and never passed, maxInFlight');

    // Nothing sent twice and no acknowledged write lost: the table holds exactly the acknowledged rows.
    const { rows } = await db.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`);
    const acknowledged = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    assert.deepEqual(
      rows.map((r) => r.id),
      acknowledged,
    );

    // Later calls succeed, on a fresh connection where needed.
    const later = await Promise.all(Array.from({ length: 20 }, (_, i) => db.query('SELECT $1::int AS i', [i])));
    assert.deepEqual(
      later.map((r) => r.rows[0]),
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
    assert.ok(!(await backendPids(name)).includes(victim));
  });
});
