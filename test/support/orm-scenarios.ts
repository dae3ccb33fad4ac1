// The same work for Kysely and Drizzle on every drop-in facade (spillway/pg, spillway/mysql):
// queries, a committed and a rolled-back transaction, concurrent load, then the pool's counters.
import assert from 'node:assert/strict';
import { type Generated, type Kysely, sql } from 'kysely';
import type { Database } from '../../src/database.js';

export interface ScenarioTables {
  [table: string]: { id: Generated<number>; name: string; amount: number };
}

/** Checks every scenario ends with: the Spillway pool saw the work, within its size, and holds nothing. */
function expectPoolSawWork(spillway: Database, checkoutsBefore: number, queries: number, maxConnections: number): void {
  const stats = spillway.stats();
  assert.ok(stats.checkouts - checkoutsBefore >= queries, 'every query went through the Spillway pool');
  assert.ok(stats.created <= maxConnections, `created ${stats.created} connections for a pool of ${maxConnections}`);
  assert.equal(stats.invalidated, 0);
  assert.equal(spillway.status().checkedOut, 0, 'nothing left checked out');
}

/** Kysely: schema, insert, commit, rollback, 60 concurrent queries, streaming (`stream` needs a cursor on PostgreSQL). */
export async function kyselyScenario(
  db: Kysely<ScenarioTables>,
  spillway: Database,
  table: string,
  options: { mysql: boolean; maxConnections: number },
): Promise<void> {
  await db.schema
    .createTable(table)
    .addColumn('id', options.mysql ? 'integer' : 'serial', (c) => (options.mysql ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
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

  const before = spillway.stats().checkouts;
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? db
            .insertInto(table)
            .values({ name: `load${i}`, amount: i })
            .execute()
        : db.selectFrom(table).select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
    ),
  );
  let streamed = 0;
  for await (const _row of db.selectFrom(table).selectAll().stream(5)) streamed++;
  assert.equal(streamed, 22);
  expectPoolSawWork(spillway, before, 60, options.maxConnections);
}

/**
 * The Drizzle calls this scenario makes. Drizzle's database types differ by dialect while the
 * calls are the same, so the scenario sees them through this shape.
 */
export interface DrizzleLike {
  // biome-ignore lint/suspicious/noExplicitAny: one scenario over Drizzle's per-dialect builder types
  [method: string]: any;
}

// biome-ignore lint/suspicious/noExplicitAny: Drizzle's helpers (eq, sql, count), whose types differ by dialect
type DrizzleFn = (...args: any[]) => any;

/** Drizzle: insert, a committed transfer, a rolled-back one, 60 concurrent queries and transactions. */
export async function drizzleScenario(
  db: DrizzleLike,
  accounts: DrizzleLike,
  ops: { eq: DrizzleFn; sql: DrizzleFn; count: DrizzleFn },
  spillway: Database,
  maxConnections: number,
): Promise<void> {
  const { eq, sql: dsql, count } = ops;
  await db.insert(accounts).values([
    { name: 'alice', balance: 100 },
    { name: 'bob', balance: 0 },
  ]);
  await db.transaction(async (tx: DrizzleLike) => {
    await tx
      .update(accounts)
      .set({ balance: dsql`${accounts.balance} - 30` })
      .where(eq(accounts.name, 'alice'));
    await tx
      .update(accounts)
      .set({ balance: dsql`${accounts.balance} + 30` })
      .where(eq(accounts.name, 'bob'));
  });
  await assert.rejects(
    db.transaction(async (tx: DrizzleLike) => {
      await tx.update(accounts).set({ balance: 0 }).where(eq(accounts.name, 'alice'));
      tx.rollback();
    }),
  );
  const balances = await db.select({ name: accounts.name, balance: accounts.balance }).from(accounts).orderBy(accounts.id);
  assert.deepEqual(balances, [
    { name: 'alice', balance: 70 },
    { name: 'bob', balance: 30 },
  ]);

  const before = spillway.stats().checkouts;
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      i % 4 === 0
        ? db.transaction(async (tx: DrizzleLike) => {
            await tx.insert(accounts).values({ name: `load${i}`, balance: i });
          })
        : db.select({ n: count() }).from(accounts),
    ),
  );
  const [{ n }] = await db.select({ n: count() }).from(accounts);
  assert.equal(Number(n), 17);
  expectPoolSawWork(spillway, before, 60, maxConnections);
}
