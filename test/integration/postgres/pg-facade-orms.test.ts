// Kysely (PostgresDialect) and Drizzle (node-postgres) on spillway/pg's Pool, against the real PostgreSQL.
// Each pool names its server connections (application_name spillway:<name>, as pg.Pool passes any
// client setting on) so that the end can check none is left open.
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { Kysely, PostgresDialect } from 'kysely';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { drizzleScenario, kyselyScenario, type ScenarioTables } from '../../support/orm-scenarios.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

// pg-cursor ships no types; Kysely only needs its constructor.
const Cursor = createRequire(import.meta.url)('pg-cursor');
const tables = { kysely: uniqueName('kysely_pg'), drizzle: uniqueName('drizzle_pg') };
after(() => adminQuery(`DROP TABLE IF EXISTS ${tables.kysely}, ${tables.drizzle}`).catch(() => undefined));

describe('ORMs on spillway/pg Pool', () => {
  it('Kysely with PostgresDialect({ pool: new Pool(...) }): queries, transactions, load, streaming; nothing leaks', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('kysely');
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 5, name, application_name: `spillway:${name}` });
    const db = new Kysely<ScenarioTables>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
    try {
      await kyselyScenario(db, pool.spillway, tables.kysely, { mysql: false, maxConnections: 5 });
    } finally {
      await db.destroy(); // ends the pool
    }
    await expectNoServerConnections(pool.spillway.name);
  });

  it('Drizzle with drizzle(pool): queries, transactions, load; nothing leaks', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const accounts = pgTable(tables.drizzle, {
      id: serial('id').primaryKey(),
      name: text('name').notNull(),
      balance: integer('balance').notNull(),
    });
    const name = uniqueName('drizzle');
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 4, name, application_name: `spillway:${name}` });
    const db = drizzle(pool);
    try {
      await db.execute(sql.raw(`CREATE TABLE ${tables.drizzle} (id serial PRIMARY KEY, name text NOT NULL, balance integer NOT NULL)`));
      await drizzleScenario(db, accounts, { eq, sql, count }, pool.spillway, 4);
    } finally {
      await pool.end();
    }
    await expectNoServerConnections(pool.spillway.name);
  });
});
