import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool } from '../../../src/create-pool.js';
import { POSTGRES_URL, requireServer } from '../../support/databases.js';
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
});
