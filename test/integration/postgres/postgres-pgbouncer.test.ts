import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../../src/create-pool.js';
import type { SpillwayError } from '../../../src/errors.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { type PgBouncer, pgBouncerInstalled, startPgBouncer } from '../../support/pgbouncer.js';

// A real PgBouncer in transaction mode with ONE server connection: every Spillway connection shares
// it, so any session state Spillway left behind would be seen by the next client.
describe('postgres behind PgBouncer in transaction mode', () => {
  let bouncer: PgBouncer | undefined;
  before(async () => {
    if (pgBouncerInstalled()) bouncer = await startPgBouncer(POSTGRES_URL, 1).catch(() => undefined);
  });
  after(async () => {
    await bouncer?.stop();
  });

  async function ready(t: import('node:test').TestContext): Promise<boolean> {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return false;
    if (bouncer !== undefined) return true;
    if (process.env.CI) throw new Error('CI is set but PgBouncer could not be started');
    t.skip('pgbouncer is not installed or did not start');
    return false;
  }

  it('leaves no session setting on the shared server connection', async (t) => {
    if (!(await ready(t))) return;
    const url = (bouncer as PgBouncer).url;
    const db = createPool({ url, size: 3, statementTimeoutMs: 4321, lockTimeoutMs: 1234, env: {} });
    try {
      await db.query('SELECT 1');
      await db.query('SELECT $1::int AS n', [1], { timeoutMs: 777 });
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ s: string }>("SELECT current_setting('statement_timeout') AS s");
        assert.equal(rows[0]?.s, '4321ms', 'the timeout holds inside the transaction');
        await tx.query('SELECT 1', [], { timeoutMs: 555 });
      });
      const wrapped = await db.query<{ s: string; l: string }>(
        "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l",
      );
      assert.deepEqual(wrapped.rows[0], { s: '4321ms', l: '1234ms' }, 'a statement outside a transaction still gets its timeouts');
    } finally {
      await db.close();
    }
    // A plain client through the same PgBouncer gets the same (only) server connection.
    const plain = new pg.Client({ connectionString: url.replace('?pgbouncer=true', '') });
    await plain.connect();
    try {
      const { rows } = await plain.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l");
      assert.deepEqual(rows[0], { s: '0', l: '0' }, 'Spillway changed no session setting');
    } finally {
      await plain.end();
    }
  });

  it('runs parameterised statements from many connections over one server connection (no named prepared statements)', async (t) => {
    if (!(await ready(t))) return;
    const db = createPool({ url: (bouncer as PgBouncer).url, size: 8, env: {} });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => db.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `v${i}`])),
      );
      for (const [i, r] of results.entries()) assert.deepEqual(r.rows[0], { n: i, s: `v${i}` });
    } finally {
      await db.close();
    }
  });

  it('multiplexed: pipelined statements work over one server connection, with no named prepared statement and their timeouts', async (t) => {
    if (!(await ready(t))) return;
    const url = (bouncer as PgBouncer).url;
    const table = uniqueName('sw_bouncer_mux');
    const db = createPool({ url, size: 4, multiplex: true, statementTimeoutMs: 500, lockTimeoutMs: 400, env: {} });
    let shared = 0;
    db.on('checkout', (event) => {
      if (event.shared) shared++;
    });
    try {
      await db.query(`CREATE TABLE ${table} (id int NOT NULL)`);
      // Reads, writes, a SQL error and a statement past its timeout, all in flight together.
      const reads = Array.from({ length: 150 }, (_, i) =>
        db.query<{ n: number; s: string }>('SELECT $1::int AS n, $2::text AS s', [i, `v${i}`]),
      );
      const writes = Array.from({ length: 30 }, (_, i) => db.query(`INSERT INTO ${table} (id) VALUES ($1)`, [i]));
      // The rejections are asserted from the start: awaited only after the reads, a SQL error answered
      // first would be an unhandled rejection for a moment, which the test runner counts as a failure.
      const failing = assert.rejects(
        db.query('SELECT 1 / $1::int', [0]),
        (error: SpillwayError) => error.code !== 'STATEMENT_TIMEOUT' && /division by zero/.test(error.message),
      );
      const slow = assert.rejects(
        db.query('SELECT pg_sleep(5)'),
        (error: SpillwayError) => error.code === 'STATEMENT_TIMEOUT',
        'the server statement_timeout held',
      );
      const settings = db.query<{ s: string; l: string }>(
        "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l",
      );
      for (const [i, r] of (await Promise.all(reads)).entries()) assert.deepEqual(r.rows[0], { n: i, s: `v${i}` });
      await Promise.all(writes);
      await failing;
      await slow;
      assert.deepEqual((await settings).rows[0], { s: '500ms', l: '400ms' }, 'each shared statement runs under the pool timeouts');
      assert.ok(db.multiplexer !== undefined && shared > 0, 'the statements went through the multiplexer');
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      assert.equal(Number(rows[0]?.n), 30, 'every acknowledged write was committed, once');
      await db.query(`DROP TABLE ${table}`);
    } finally {
      await db.close();
    }
    // PgBouncer has one server connection: a plain client through it sees what Spillway left there.
    const plain = new pg.Client({ connectionString: url.replace('?pgbouncer=true', '') });
    await plain.connect();
    try {
      const prepared = await plain.query<{ n: string }>('SELECT count(*) AS n FROM pg_prepared_statements');
      assert.equal(Number(prepared.rows[0]?.n), 0, 'no named prepared statement on the server connection');
      const { rows } = await plain.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l");
      assert.deepEqual(rows[0], { s: '0', l: '0' }, 'no session setting left behind');
    } finally {
      await plain.end();
    }
  });
});
