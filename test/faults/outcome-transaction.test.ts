import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/index.js';
import { createPool } from '../../src/index.js';
import { ChaosProxy } from '../support/chaos-proxy.js';
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
      const upstream = new URL(target.url);
      proxy = new ChaosProxy({ host: upstream.hostname, port: Number(upstream.port) });
      await proxy.start();
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
