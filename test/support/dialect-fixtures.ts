import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Database } from '../../src/database.js';
import { dialectSelected, MYSQL_URL, POSTGRES_URL, requireServer } from './databases.js';
import { type PgBouncer, pgBouncerInstalled, startPgBouncer } from './pgbouncer.js';

/**
 * One database the shared suite (test/integration/all-dialects) runs against. The suite's tests are
 * written once; what differs between dialects is described here, never in the tests' logic.
 */
export interface DialectFixture {
  /** Test label: postgres, postgres via pgbouncer, mysql, sqlite. */
  readonly label: string;
  readonly dialect: 'postgres' | 'mysql' | 'sqlite';
  /** Ready to run (server reachable, PgBouncer started, temp dir made); otherwise the test is skipped with the reason. */
  ready(t: TestContext): Promise<boolean>;
  /** The URL to createPool with (valid after ready). */
  url(): string;
  /** Stop what ready() started (PgBouncer, temp dir). */
  teardown(): Promise<void>;
  /** Placeholder for parameter `index` in hand-written SQL. */
  placeholder(index: number): string;
  /** Column type of an auto-generated integer primary key. */
  readonly serialKey: string;
  /** A statement that runs for about `seconds`, or undefined when the dialect has none that a timeout can stop. */
  sleep(seconds: number): string | undefined;
  /** SQL returning the server's id of this connection as `id`, and SQL ending another connection by id. */
  readonly kill: { idSql: string; killSql(id: unknown): string } | undefined;
  /** Driver fields of a syntax error and a duplicate key, which pass through unchanged. */
  readonly syntaxErrorCode: string;
  readonly duplicateKeyCode: string;
  /** A statement that fails with a data exception (SQLSTATE class 22 or the dialect's counterpart). */
  readonly dataExceptionSql: string;
  /** lockTimeoutMs to configure so the lock test is quick (MySQL counts lock waits in whole seconds). */
  readonly lockTimeoutMs: number;
  /**
   * Hold a write lock on row `id` of `table` the way another client would; resolves with a function
   * that lets go. On SQLite the other client is another connection outside the pool (another process
   * in real life), since inside one pool writes queue for the one writer instead of meeting a lock.
   */
  holdRowLock(db: Database, url: string, table: string, id: number): Promise<() => Promise<void>>;
}

/** A borrower of `db` that updates the row inside an open transaction. */
async function holdWithSession(db: Database, table: string, id: number): Promise<() => Promise<void>> {
  const holder = await db.acquire();
  await holder.query(db.dialect.name === 'mysql' ? 'START TRANSACTION' : 'BEGIN');
  await holder.query(`UPDATE ${table} SET v = v + 1 WHERE id = ${Number(id)}`);
  return async () => {
    await holder.query('ROLLBACK');
    holder.release();
  };
}

function serverFixture(
  label: string,
  dialect: 'postgres' | 'mysql',
  url: string,
  extra: Omit<DialectFixture, 'label' | 'dialect' | 'ready' | 'url' | 'teardown' | 'holdRowLock'>,
): DialectFixture {
  return {
    label,
    dialect,
    ready: (t) => requireServer(t, url, dialect),
    url: () => url,
    teardown: async () => undefined,
    holdRowLock: (db, _url, table, id) => holdWithSession(db, table, id),
    ...extra,
  };
}

const postgresTraits = {
  placeholder: (i: number) => `$${i}`,
  serialKey: 'SERIAL PRIMARY KEY',
  sleep: (s: number) => `SELECT pg_sleep(${s})`,
  kill: { idSql: 'SELECT pg_backend_pid() AS id', killSql: (id: unknown) => `SELECT pg_terminate_backend(${Number(id)})` },
  syntaxErrorCode: '42601',
  duplicateKeyCode: '23505',
  dataExceptionSql: 'SELECT 1/0', // 22012 division_by_zero
  lockTimeoutMs: 300,
  holdRowLock: (db: Database, _url: string, table: string, id: number) => holdWithSession(db, table, id),
};

function pgBouncerFixture(): DialectFixture {
  let bouncer: Promise<PgBouncer> | undefined;
  let url = '';
  return {
    label: 'postgres via pgbouncer (transaction mode)',
    dialect: 'postgres',
    async ready(t) {
      if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return false;
      if (!pgBouncerInstalled()) {
        if (process.env.CI) throw new Error('CI is set but pgbouncer is not installed');
        t.skip('pgbouncer is not installed');
        return false;
      }
      bouncer ??= startPgBouncer(POSTGRES_URL);
      url = (await bouncer).url;
      return true;
    },
    url: () => url,
    async teardown() {
      if (bouncer !== undefined) await (await bouncer).stop();
      bouncer = undefined;
    },
    ...postgresTraits,
  };
}

function sqliteFixture(): DialectFixture {
  let dir: string | undefined;
  return {
    label: 'sqlite',
    dialect: 'sqlite',
    async ready(t) {
      if (!dialectSelected('sqlite')) {
        t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
        return false;
      }
      dir ??= await mkdtemp(join(tmpdir(), 'spillway-sqlite-'));
      return true;
    },
    // A fresh file per pool keeps tests independent; the folder below the temp dir is created by the dialect.
    url: () => `sqlite:${join(dir as string, 'db', `${Math.random().toString(36).slice(2)}.db`)}`,
    async teardown() {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      dir = undefined;
    },
    placeholder: () => '?',
    serialKey: 'INTEGER PRIMARY KEY',
    // SQLite has no server-side cancel and better-sqlite3 runs a statement synchronously on the event loop.
    sleep: () => undefined,
    kill: undefined,
    syntaxErrorCode: 'SQLITE_ERROR',
    duplicateKeyCode: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    dataExceptionSql: 'SELECT zeroblob(2000000000)', // SQLITE_TOOBIG
    lockTimeoutMs: 200,
    async holdRowLock(_db, url, table, id) {
      const { default: BetterSqlite3 } = await import('better-sqlite3');
      const other = new BetterSqlite3(url.slice('sqlite:'.length));
      other.exec('BEGIN IMMEDIATE');
      other.prepare(`UPDATE ${table} SET v = v + 1 WHERE id = ?`).run(id);
      return async () => {
        other.exec('ROLLBACK');
        other.close();
      };
    },
  };
}

/** Every dialect of the shared suite; SPILLWAY_TEST_DIALECTS and reachability decide which run. */
export function dialectFixtures(): DialectFixture[] {
  return [
    serverFixture('postgres', 'postgres', POSTGRES_URL, postgresTraits),
    pgBouncerFixture(),
    serverFixture('mysql', 'mysql', MYSQL_URL, {
      placeholder: () => '?',
      serialKey: 'INT AUTO_INCREMENT PRIMARY KEY',
      sleep: (s) => `SELECT SLEEP(${s})`,
      kill: { idSql: 'SELECT CONNECTION_ID() AS id', killSql: (id) => `KILL ${Number(id)}` },
      syntaxErrorCode: 'ER_PARSE_ERROR',
      duplicateKeyCode: 'ER_DUP_ENTRY',
      dataExceptionSql: 'SELECT 18446744073709551615 + 1', // 1690, SQLSTATE 22003 out of range
      lockTimeoutMs: 1000,
    }),
    sqliteFixture(),
  ];
}

/** Drop a table created by a test (pools are closed by the caller). */
export async function dropTable(db: Database, table: string): Promise<void> {
  await db.query(`DROP TABLE IF EXISTS ${table}`);
}
