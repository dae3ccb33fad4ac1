import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/index.js';
import { createPool } from '../../src/index.js';
import { type ChaosProxy, proxyInFrontOf } from '../support/chaos-proxy.js';
import { MYSQL_URL, POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminPool, OUTCOME_SETTINGS, presentCounts } from '../support/outcome-writes.js';

// A transaction's outcome is its COMMIT's: lost before the COMMIT went out, nothing was committed
// ('not-sent'); a COMMIT whose answer was lost is RESULT_UNKNOWN.
for (const target of [
  { label: 'PostgreSQL', url: POSTGRES_URL, dialect: 'postgres' },
  { label: 'MariaDB', url: MYSQL_URL, dialect: 'mysql' },
] as const) {
  describe(`transaction outcome through a blackhole: ${target.label}`, { timeout: 60_000 }, () => {
    let ready = false;
    let admin: Database;
    let proxy: ChaosProxy;
    let table: string;

    before(async (t) => {
      ready = await requireServer(t as never, target.url, target.dialect);
      if (!ready) return;
      admin = adminPool(target.url);
      proxy = await proxyInFrontOf(target.url);
      table = uniqueName('outcome_tx');
      await admin.query(`CREATE TABLE ${table} (id integer NOT NULL)`);
    });

    after(async () => {
      if (!ready) return;
      await proxy.close();
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
      await admin.close();
    });

    it('a statement lost mid-transaction: the transaction fails not-sent and nothing is committed', async (t) => {
      if (!ready) return t.skip('no server');
      const db = createPool({ ...OUTCOME_SETTINGS, url: proxy.url(target.url), name: uniqueName('outcome') });
      const p = db.dialect.placeholder(1);
      try {
        let inside: { code?: unknown; outcome?: unknown } | undefined;
        const error = await db
          .transaction(async (tx) => {
            await tx.query(`INSERT INTO ${table} (id) VALUES (${p})`, [1]);
            proxy.blackhole('drop');
            try {
              await tx.query(`INSERT INTO ${table} (id) VALUES (${p})`, [2]);
            } catch (e) {
              inside = { code: (e as { code?: unknown }).code, outcome: (e as { outcome?: unknown }).outcome };
              throw e;
            }
          })
          .then(
            () => assert.fail('the blackhole let it through'),
            (e: unknown) => e as { code?: unknown; outcome?: unknown },
          );
        assert.deepEqual(inside, { code: 'STATEMENT_TIMEOUT', outcome: 'unknown' }, 'the statement itself: its answer was lost');
        assert.equal(error.outcome, 'not-sent', 'the transaction: its COMMIT was never sent');
        proxy.pass();
        await db.close({ graceMs: 0 });
        const present = await presentCounts(admin, table);
        assert.ok(!present.has(1) && !present.has(2), 'nothing committed');
      } finally {
        proxy.pass();
        await db.close({ graceMs: 0 });
      }
    });

    it('a COMMIT whose answer was lost is RESULT_UNKNOWN, saying it may have been committed', async (t) => {
      if (!ready) return t.skip('no server');
      const db = createPool({ ...OUTCOME_SETTINGS, url: proxy.url(target.url), name: uniqueName('outcome') });
      const p = db.dialect.placeholder(1);
      try {
        const error = await db
          .transaction(async (tx) => {
            await tx.query(`INSERT INTO ${table} (id) VALUES (${p})`, [3]);
            proxy.blackhole('delay'); // the COMMIT goes into it
          })
          .then(
            () => assert.fail('the blackhole let it through'),
            (e: unknown) => e as { code?: unknown; outcome?: unknown; message: string },
          );
        assert.equal(error.code, 'RESULT_UNKNOWN');
        assert.equal(error.outcome, 'unknown');
        assert.match(error.message, /may have been committed/);
      } finally {
        proxy.pass();
        await db.close({ graceMs: 0 });
      }
    });
  });
}

describe('write-once keys resolve an ambiguous insert (docs/resilience.md)', { timeout: 60_000 }, () => {
  it('PostgreSQL: an insert whose answer was lost, sent again with its client-made key and onConflict, lands once', async (t) => {
    if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
    const admin = adminPool(POSTGRES_URL);
    const proxy = await proxyInFrontOf(POSTGRES_URL);
    const table = uniqueName('outcome_once');
    // A trigger that takes 300 ms: the insert is on the server when the blackhole starts, and applied
    // while its answer is held there.
    await admin.query(`CREATE TABLE ${table} (id text PRIMARY KEY, total integer NOT NULL)`);
    await admin.query(
      `CREATE FUNCTION ${table}_slow() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await admin.query(`CREATE TRIGGER ${table}_slow BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`);
    const db = createPool({ ...OUTCOME_SETTINGS, statementTimeoutMs: 1000, url: proxy.url(POSTGRES_URL), name: uniqueName('outcome') });
    try {
      const order = { id: `order-${uniqueName('k')}`, total: 42 }; // the key, made once
      const outcomes: string[] = [];
      for (let attempt = 1; attempt <= 5; attempt++) {
        const call = db.batchInsert(table, [order], { onConflict: { do: 'nothing', target: ['id'] } });
        if (attempt === 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          proxy.blackhole('drop'); // the answer never comes back on this connection
        }
        try {
          await call;
          break;
        } catch (error) {
          const outcome = String((error as { outcome?: unknown }).outcome);
          outcomes.push(`${String((error as { code?: unknown }).code)}:${outcome}`);
          proxy.pass();
          if (outcome === 'rejected') throw error;
        }
      }
      assert.equal(outcomes[0], 'RESULT_UNKNOWN:unknown', `the first attempt's answer was lost (${outcomes.join(', ')})`);
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE id = $1`, [order.id]);
      assert.equal(Number(rows[0]?.n), 1, 'the row is there exactly once');
    } finally {
      proxy.pass();
      await db.close({ graceMs: 0 });
      await proxy.close();
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
      await admin.query(`DROP FUNCTION IF EXISTS ${table}_slow()`);
      await admin.close();
    }
  });
});
