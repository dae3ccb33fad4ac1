import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import { uniqueName } from '../../support/databases.js';
import { dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

// Statement and lock timeouts, once for every dialect.
for (const fixture of dialectFixtures()) {
  describe(`timeouts on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it('stops a statement at statementTimeoutMs or the call timeoutMs with STATEMENT_TIMEOUT, and the pool keeps serving', async (t) => {
      if (!(await fixture.ready(t))) return;
      const long = fixture.sleep(3);
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, statementTimeoutMs: 250, env: {} });
      const perCall = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, statementTimeoutMs: 30_000, env: {} });
      try {
        if (long === undefined) {
          // SQLite differs, by design: it has no server-side cancel, and better-sqlite3 runs each
          // statement synchronously on the event loop, so no timer can fire before it ends. The
          // timeout options are accepted and the statement simply completes (README: "SQLite").
          const { rows } = await perCall.query(
            'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) SELECT count(*) AS c FROM n',
            [],
            {
              timeoutMs: 1,
            },
          );
          assert.equal(Number((rows[0] as { c: number }).c), 20000);
          return;
        }
        await assert.rejects(db.query(long), { code: 'STATEMENT_TIMEOUT' });
        assert.equal((await db.query('SELECT 1 AS one')).rowCount, 1);
        await assert.rejects(perCall.query(long, [], { timeoutMs: 200 }), { code: 'STATEMENT_TIMEOUT' });
        // The call's timeout applied to that statement only: the next one gets the configured 30 s again.
        await perCall.query(fixture.sleep(0.4) as string);
        await perCall.transaction(async (tx) => {
          await assert.rejects(tx.query(long, [], { timeoutMs: 200 }), { code: 'STATEMENT_TIMEOUT' });
        });
        await perCall.query(fixture.sleep(0.4) as string);
      } finally {
        await db.close();
        await perCall.close();
      }
    });

    it('gives up waiting for a row lock after lockTimeoutMs with LOCK_TIMEOUT', async (t) => {
      if (!(await fixture.ready(t))) return;
      const url = fixture.url();
      const db = createPool({ url, size: 2, maxOverflow: 0, lockTimeoutMs: fixture.lockTimeoutMs, env: {} });
      const table = uniqueName('lock_rows');
      try {
        await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL)`);
        await db.query(`INSERT INTO ${table} (id, v) VALUES (1, 0)`);
        const letGo = await fixture.holdRowLock(db, url, table, 1);
        try {
          await assert.rejects(db.query(`UPDATE ${table} SET v = 5 WHERE id = 1`), { code: 'LOCK_TIMEOUT' });
        } finally {
          await letGo();
        }
        assert.equal((await db.query(`UPDATE ${table} SET v = 5 WHERE id = 1`)).rowCount, 1);
      } finally {
        await dropTable(db, table);
        await db.close();
      }
    });
  });
}
