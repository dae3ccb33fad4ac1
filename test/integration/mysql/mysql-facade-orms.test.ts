// Kysely (MysqlDialect) and Drizzle (mysql2) on spillway/mysql's createPool, against the real MariaDB.
import { after, describe, it } from 'node:test';
import { count, eq, sql } from 'drizzle-orm';
import { int, mysqlTable, serial, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type SpillwayMysqlPool } from '../../../src/mysql.js';
import { MYSQL_URL, requireServer, uniqueName } from '../../support/databases.js';
import { expectThreadsGone, mysqlAdminQuery } from '../../support/mysql-activity.js';
import { drizzleScenario, kyselyScenario, type ScenarioTables } from '../../support/orm-scenarios.js';

const tables = { kysely: uniqueName('kysely_my'), drizzle: uniqueName('drizzle_my') };
after(() => mysqlAdminQuery(`DROP TABLE IF EXISTS ${tables.kysely}, ${tables.drizzle}`).catch(() => undefined));

/** A facade pool that records its server threads, to check none is left after end(). */
function trackedPool(connectionLimit: number): { pool: SpillwayMysqlPool; threads: number[] } {
  const pool = createPool({ uri: MYSQL_URL, connectionLimit, name: uniqueName('orm') });
  const threads: number[] = [];
  pool.on('connection', (connection) => threads.push(connection.threadId));
  return { pool, threads };
}

describe('ORMs on spillway/mysql createPool', () => {
  it('Kysely with MysqlDialect({ pool: createPool(...) }): queries, transactions, load, streaming; nothing leaks', async (t) => {
    if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
    const { pool, threads } = trackedPool(5);
    // Kysely's MysqlPool is mysql2's callback pool shape; the facade serves both shapes.
    const db = new Kysely<ScenarioTables>({ dialect: new MysqlDialect({ pool }) });
    try {
      await kyselyScenario(db, pool.spillway, tables.kysely, { mysql: true, maxConnections: 5 });
    } finally {
      await db.destroy(); // ends the pool
    }
    await expectThreadsGone(threads);
  });

  it('Drizzle with drizzle({ client: pool }): queries, transactions, load; nothing leaks', async (t) => {
    if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
    const accounts = mysqlTable(tables.drizzle, {
      id: serial('id').primaryKey(),
      name: varchar('name', { length: 64 }).notNull(),
      balance: int('balance').notNull(),
    });
    const { pool, threads } = trackedPool(4);
    const db = drizzle({ client: pool });
    try {
      await db.execute(sql.raw(`CREATE TABLE ${tables.drizzle} (id SERIAL PRIMARY KEY, name VARCHAR(64) NOT NULL, balance INT NOT NULL)`));
      await drizzleScenario(db, accounts, { eq, sql, count }, pool.spillway, 4);
    } finally {
      await pool.end();
    }
    await expectThreadsGone(threads);
  });
});
