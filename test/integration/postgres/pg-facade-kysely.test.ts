// Kysely on spillway/pg's Pool, against the real PostgreSQL: the drop-in proof for query builders.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

const Cursor = createRequire(import.meta.url)('pg-cursor');

interface Tables {
  [table: string]: { id: Generated<number>; name: string; amount: number };
}

const table = uniqueName('kysely_pg');
after(() => adminQuery(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined));

describe('Kysely with PostgresDialect({ pool: new Pool(...) }) from spillway/pg', () => {
  it('runs queries, transactions (commit and rollback), streaming and concurrent load, and leaks nothing', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 5, name: uniqueName('kysely') });
    const poolName = pool.spillway.name;
    const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
    try {
      await db.schema
        .createTable(table)
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('amount', 'integer', (c) => c.notNull())
        .execute();
      await db.insertInto(table).values({ name: 'a', amount: 1 }).execute();

      await db.transaction().execute(async (trx) => {
        await trx.insertInto(table).values({ name: 'committed', amount: 2 }).execute();
      });
      await assert.rejects(
        db.transaction().execute(async (trx) => {
          await trx.insertInto(table).values({ name: 'rolled-back', amount: 3 }).execute();
          throw new Error('undo');
        }),
        /undo/,
      );
      const names = (await db.selectFrom(table).select('name').orderBy('id').execute()).map((r) => r.name);
      assert.deepEqual(names, ['a', 'committed']);

      const before = pool.spillway.stats().checkouts;
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          i % 3 === 0
            ? db
                .insertInto(table)
                .values({ name: `load${i}`, amount: i })
                .execute()
            : db.selectFrom(table).select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
        ),
      );
      assert.ok(pool.spillway.stats().checkouts - before >= 60, 'every query went through the Spillway pool');

      let streamed = 0;
      for await (const _row of db.selectFrom(table).selectAll().stream(5)) streamed++;
      assert.equal(streamed, 22);

      const stats = pool.spillway.stats();
      assert.ok(stats.created <= 5, `created ${stats.created} connections for max 5`);
      assert.equal(stats.invalidated, 0);
      assert.equal(pool.spillway.status().checkedOut, 0, 'nothing left checked out');
    } finally {
      await db.destroy(); // ends the pool
    }
    assert.equal(pool.ended, true);
    await expectNoServerConnections(poolName);
  });
});
