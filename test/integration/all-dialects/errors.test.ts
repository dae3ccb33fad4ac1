import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import { SpillwayError } from '../../../src/errors.js';
import { uniqueName } from '../../support/databases.js';
import { dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

// Error handling, once for every dialect.
for (const fixture of dialectFixtures()) {
  describe(`errors on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it("passes SQL errors through with the driver's fields and keeps the connection", async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, env: {} });
      const table = uniqueName('err_rows');
      try {
        const syntax = await db.query('SELEC 1').then(
          () => assert.fail('a syntax error must reject'),
          (e: unknown) => e,
        );
        assert.ok(!(syntax instanceof SpillwayError), 'a SQL error is not a Spillway error');
        assert.equal((syntax as { code?: unknown }).code, fixture.syntaxErrorCode);

        await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
        await db.query(`INSERT INTO ${table} (id) VALUES (1)`);
        await assert.rejects(db.query(`INSERT INTO ${table} (id) VALUES (1)`), (e: unknown) => {
          assert.equal((e as { code?: unknown }).code, fixture.duplicateKeyCode);
          return true;
        });
        const stats = db.writerPool?.stats() ?? db.stats();
        assert.equal(db.stats().invalidated + (db.writerPool?.stats().invalidated ?? 0), 0, 'SQL errors never discard a connection');
        assert.equal(stats.created, 1);
      } finally {
        await dropTable(db, table);
        await db.close();
      }
    });

    it('reports CONNECTION_LOST when the server ends a connection mid-statement, discards it, and recovers', async (t) => {
      if (!(await fixture.ready(t))) return;
      const kill = fixture.kill;
      const sleep = fixture.sleep(5);
      if (kill === undefined || sleep === undefined) {
        // SQLite is a file opened in this process: there is no server to end the connection.
        t.skip('SQLite has no server connection that can be lost');
        return;
      }
      const db = createPool({ url: fixture.url(), size: 2, maxOverflow: 0, env: {} });
      try {
        const error = await db
          .transaction(async (tx) => {
            // Inside a transaction, so that behind PgBouncer the id is that of the server connection running the sleep.
            const { rows } = await tx.query<{ id: unknown }>(kill.idSql);
            const id = rows[0]?.id;
            const killer = createPool({ url: fixture.url(), size: 1, env: {} });
            const killing = new Promise((resolve) => setTimeout(resolve, 200)).then(() => killer.query(kill.killSql(id)));
            try {
              await tx.query(sleep);
            } finally {
              await killing.catch(() => undefined);
              await killer.close();
            }
          })
          .then(
            () => assert.fail('the statement must fail when its connection is ended'),
            (e: unknown) => e,
          );
        assert.ok(error instanceof SpillwayError, `expected a SpillwayError, got ${String(error)}`);
        assert.equal(error.code, 'CONNECTION_LOST');
        assert.ok(db.stats().invalidated >= 1, 'the broken connection was discarded');
        assert.equal((await db.query('SELECT 1 AS one')).rowCount, 1);
      } finally {
        await db.close();
      }
    });
  });
}
