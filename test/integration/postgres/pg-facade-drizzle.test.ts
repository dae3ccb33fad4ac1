// Drizzle (drizzle-orm/node-postgres) on spillway/pg's Pool, against the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

const tableName = uniqueName('drizzle_pg');
const accounts = pgTable(tableName, { id: serial('id').primaryKey(), name: text('name').notNull(), balance: integer('balance').notNull() });
after(() => adminQuery(`DROP TABLE IF EXISTS ${tableName}`).catch(() => undefined));

describe('Drizzle (node-postgres) on spillway/pg Pool', () => {
  it('runs queries, transactions (commit and rollback) and concurrent load, and leaks nothing', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 4, name: uniqueName('drizzle') });
    const poolName = pool.spillway.name;
    const db = drizzle(pool);
    try {
      await db.execute(sql.raw(`CREATE TABLE ${tableName} (id serial PRIMARY KEY, name text NOT NULL, balance integer NOT NULL)`));
      await db.insert(accounts).values([
        { name: 'alice', balance: 100 },
        { name: 'bob', balance: 0 },
      ]);

      await db.transaction(async (tx) => {
        await tx
          .update(accounts)
          .set({ balance: sql`${accounts.balance} - 30` })
          .where(eq(accounts.name, 'alice'));
        await tx
          .update(accounts)
          .set({ balance: sql`${accounts.balance} + 30` })
          .where(eq(accounts.name, 'bob'));
      });
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.update(accounts).set({ balance: 0 }).where(eq(accounts.name, 'alice'));
          tx.rollback();
        }),
      );
      const balances = await db.select({ name: accounts.name, balance: accounts.balance }).from(accounts).orderBy(accounts.id);
      assert.deepEqual(balances, [
        { name: 'alice', balance: 70 },
        { name: 'bob', balance: 30 },
      ]);

      const before = pool.spillway.stats().checkouts;
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 4 === 0
            ? db.transaction(async (tx) => {
                await tx.insert(accounts).values({ name: `load${i}`, balance: i });
              })
            : db.select({ n: count() }).from(accounts),
        ),
      );
      assert.ok(pool.spillway.stats().checkouts - before >= 60, 'every query went through the Spillway pool');
      const [{ n } = { n: 0 }] = await db.select({ n: count() }).from(accounts);
      assert.equal(n, 17);

      const stats = pool.spillway.stats();
      assert.ok(stats.created <= 4, `created ${stats.created} connections for max 4`);
      assert.equal(stats.invalidated, 0);
      assert.equal(pool.spillway.status().checkedOut, 0, 'nothing left checked out');
    } finally {
      await pool.end();
    }
    await expectNoServerConnections(poolName);
  });
});
