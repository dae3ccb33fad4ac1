import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import type { Database } from '../../../src/database.js';
import type { IsolationLevel } from '../../../src/dialect/dialect.js';
import { sql } from '../../../src/query/sql.js';
import { uniqueName } from '../../support/databases.js';
import { type DialectFixture, dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

async function withTable(fixture: DialectFixture, fn: (db: Database, table: string) => Promise<void>): Promise<void> {
  const db = createPool({ url: fixture.url(), size: 2, env: {} });
  const table = uniqueName('tx_rows');
  try {
    await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL)`);
    await fn(db, table);
  } finally {
    await dropTable(db, table);
    await db.close();
  }
}

async function ids(db: Database, table: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(sql`SELECT id FROM ${sql.identifier(table)} ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

// Transactions, once for every dialect.
for (const fixture of dialectFixtures()) {
  describe(`transactions on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it('commits when the function resolves and rolls back when it throws, returning the connection both times', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        const result = await db.transaction(async (tx) => {
          await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${1}, ${10})`);
          return 'done';
        });
        assert.equal(result, 'done');
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${2}, ${20})`);
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        assert.deepEqual(await ids(db, table), [1]);
        assert.equal(db.status().checkedOut, 0);
        assert.equal(db.writerPool?.status().checkedOut ?? 0, 0);
        assert.equal(db.stats().invalidated, 0, 'a rollback is not a reason to discard a connection');
      });
    });

    it('undoes only the inner work when a nested transaction (savepoint) fails', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        await db.transaction(async (tx) => {
          await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${1}, ${1})`);
          await assert.rejects(
            tx.transaction(async (inner) => {
              await inner.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${2}, ${2})`);
              throw new Error('inner fails');
            }),
            /inner fails/,
          );
          await tx.transaction(async (inner) => {
            await inner.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${3}, ${3})`);
          });
        });
        assert.deepEqual(await ids(db, table), [1, 3]);
      });
    });

    it('rolls back after a SQL error inside the transaction and keeps the connection', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${1}, ${1})`);
            await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${1}, ${1})`);
          }),
          (error: unknown) => (error as { code?: unknown }).code === fixture.duplicateKeyCode,
        );
        assert.deepEqual(await ids(db, table), []);
        assert.equal(db.stats().invalidated, 0);
        assert.equal(db.writerPool?.stats().invalidated ?? 0, 0);
      });
    });

    it('accepts every isolation level and read-only transactions', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        const levels: IsolationLevel[] = ['read uncommitted', 'read committed', 'repeatable read', 'serializable'];
        for (const [i, isolation] of levels.entries()) {
          await db.transaction(
            async (tx) => {
              await tx.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${i}, ${i})`);
            },
            { isolation },
          );
        }
        const count = await db.transaction(async (tx) => (await tx.query(sql`SELECT id FROM ${sql.identifier(table)}`)).rowCount, {
          readOnly: true,
        });
        assert.equal(count, 4);
      });
    });

    it('leaves no open transaction behind for the next borrower when a borrower forgets to commit', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        await db.withConnection(async (conn) => {
          await conn.query(fixture.dialect === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
          await conn.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${7}, ${7})`);
          // Returned without COMMIT: the pool must roll it back.
        });
        assert.deepEqual(await ids(db, table), []);
        await db.query(sql`INSERT INTO ${sql.identifier(table)} (id, v) VALUES (${8}, ${8})`);
        assert.deepEqual(await ids(db, table), [8]);
      });
    });
  });
}
