import { dirname, resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { ResolvedConfig } from '../../config/options.js';
import { ConnectionLostError } from '../../errors.js';
import type { Connector } from '../../pool/connector.js';
import type { Dialect, QueryResult, StatementOptions, TransactionOptions } from '../dialect.js';
import { sqliteBatch } from './sqlite-batch.js';
import { classifySqliteFailure, isSqliteDisconnect, mapSqliteError } from './sqlite-errors.js';
import { ensureFolder, openFailure } from './sqlite-files.js';
import { type PragmaValue, resolvePragmas } from './sqlite-pragmas.js';
import { isSqliteWrite } from './sqlite-routing.js';

type SqliteDatabase = BetterSqlite3.Database;
type SqliteStatement = BetterSqlite3.Statement<unknown[]>;
type SqliteConstructor = new (filename: string, options?: BetterSqlite3.Options) => SqliteDatabase;

let sqliteModule: Promise<SqliteConstructor> | undefined;
/** better-sqlite3 is loaded only when a sqlite: URL asks for it. */
function loadSqlite(): Promise<SqliteConstructor> {
  sqliteModule ??= import('better-sqlite3').then(
    (m) => ((m as unknown as { default?: SqliteConstructor }).default ?? m) as SqliteConstructor,
  );
  return sqliteModule;
}

/**
 * A prepared statement with what we know about it, so the hot path makes no extra native calls
 * (`reader` and `raw()` each cross into C++).
 */
interface CachedStatement {
  statement: SqliteStatement;
  reader: boolean;
  raw: boolean;
}

/** Prepared statements kept per connection: preparing costs more than running a simple read. */
const STATEMENT_CACHE_SIZE = 200;
const statementCaches = new WeakMap<SqliteDatabase, Map<string, CachedStatement>>();

function prepare(db: SqliteDatabase, text: string): CachedStatement {
  let cache = statementCaches.get(db);
  if (cache === undefined) {
    cache = new Map();
    statementCaches.set(db, cache);
  }
  let cached = cache.get(text);
  if (cached === undefined) {
    const statement = db.prepare(text) as SqliteStatement;
    cached = { statement, reader: statement.reader, raw: false };
    if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(text, cached);
  }
  return cached;
}

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; the other dialects' drivers also take these. */
function bindable(params: readonly unknown[]): unknown[] {
  const values = params as unknown[];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === 'boolean' || value === undefined || value instanceof Date) return values.map(toBindable);
  }
  return values;
}

function toBindable(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}

function pragmaSql(name: string, value: PragmaValue): string {
  return `PRAGMA ${name} = ${typeof value === 'boolean' ? (value ? 'ON' : 'OFF') : value}`;
}

/**
 * The SQLite dialect on `better-sqlite3`. better-sqlite3 is synchronous, so two connections of one
 * process must never wait on each other's locks (the wait would spin on the event loop): a file
 * database gets one writer connection (its own pool of one, see {@link Dialect.routing}) for
 * transactions and writes, and reader connections that read in parallel under WAL.
 * `sqlite::memory:` is one shared connection. SQLite has no statement cancel: `statementTimeoutMs`
 * and `timeoutMs` do not apply; lock waits are bounded by busy_timeout (lockTimeoutMs).
 */
export function createSqliteDialect(config: ResolvedConfig): Dialect<SqliteDatabase> {
  const filename = config.target.filename ?? ':memory:';
  const memory = filename === ':memory:';
  const path = memory ? filename : resolve(filename);
  const pragmas = resolvePragmas(config.lockTimeoutMs, config.dialectOptions.pragmas);
  const label = `sqlite:${memory ? ':memory:' : path}`;

  function makeConnector(role: 'reader' | 'writer'): Connector<SqliteDatabase> {
    return {
      target: label,
      async connect(): Promise<SqliteDatabase> {
        const Database = await loadSqlite();
        let db: SqliteDatabase | undefined;
        try {
          if (!memory) ensureFolder(dirname(path));
          db = new Database(path, { timeout: Math.round(config.lockTimeoutMs) });
          for (const [name, value] of pragmas) db.exec(pragmaSql(name, value));
          // A reader that is asked to write fails at once instead of taking the writer's lock.
          if (role === 'reader' && !memory) db.exec('PRAGMA query_only = ON');
          return db;
        } catch (error) {
          db?.close();
          throw openFailure(label, path, error);
        }
      },
      async ping(db: SqliteDatabase): Promise<void> {
        if (!db.open) throw new ConnectionLostError(`SQLite connection to ${label} is closed`, { outcome: 'not-sent' });
      },
      needsReset: (db: SqliteDatabase) => db.inTransaction,
      async reset(db: SqliteDatabase): Promise<void> {
        db.exec('ROLLBACK');
      },
      async close(db: SqliteDatabase): Promise<void> {
        try {
          db.close();
        } catch {
          // Closing twice or mid-statement: nothing more to do.
        }
      },
      isDisconnect: isSqliteDisconnect,
    };
  }

  function querySync<R>(
    db: SqliteDatabase,
    text: string,
    params: readonly unknown[] | undefined,
    options: StatementOptions | undefined,
  ): QueryResult<R> {
    try {
      return execute<R>(db, text, params, options);
    } catch (error) {
      throw mapSqliteError(error, config.lockTimeoutMs);
    }
  }

  // Not `async`: better-sqlite3 answers synchronously, and an async frame per call is measurable on point reads.
  function query<R>(
    db: SqliteDatabase,
    text: string,
    params: readonly unknown[] | undefined,
    options: StatementOptions | undefined,
  ): Promise<QueryResult<R>> {
    try {
      return Promise.resolve(execute<R>(db, text, params, options));
    } catch (error) {
      return Promise.reject(mapSqliteError(error, config.lockTimeoutMs));
    }
  }

  function execute<R>(
    db: SqliteDatabase,
    text: string,
    params: readonly unknown[] | undefined,
    options: StatementOptions | undefined,
  ): QueryResult<R> {
    let cached: CachedStatement;
    try {
      cached = prepare(db, text);
    } catch (error) {
      // Several statements in one string (a migration script): run them as a script when nothing is bound.
      if (error instanceof RangeError && /more than one statement/i.test(error.message) && (params === undefined || params.length === 0)) {
        db.exec(text);
        return { rows: [], rowCount: 0 };
      }
      throw error;
    }
    const values = params === undefined || params.length === 0 ? undefined : bindable(params);
    const statement = cached.statement;
    if (cached.reader) {
      const raw = options?.rowMode === 'array';
      if (cached.raw !== raw) {
        statement.raw(raw);
        cached.raw = raw;
      }
      const rows = (values === undefined ? statement.all() : statement.all(...values)) as R[];
      return { rows, rowCount: rows.length };
    }
    const info = values === undefined ? statement.run() : statement.run(...values);
    return { rows: [], rowCount: info.changes, insertId: info.lastInsertRowid, raw: info };
  }

  const run = async (db: SqliteDatabase, text: string): Promise<void> => {
    await query(db, text, undefined, undefined);
  };

  return {
    name: 'sqlite',
    connector: makeConnector(memory ? 'writer' : 'reader'),
    query,
    querySync,
    classifyFailure: classifySqliteFailure,
    placeholder: () => '?',
    quoteIdentifier: (name) => `"${name.replace(/"/g, '""')}"`,
    // SQLite transactions are always serializable, so every isolation level is honoured by being stricter.
    // IMMEDIATE takes the write lock at BEGIN, so a transaction never fails later upgrading its lock.
    begin: (db, options?: TransactionOptions) => run(db, options?.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE'),
    commit: (db) => run(db, 'COMMIT'),
    rollback: (db) => run(db, 'ROLLBACK'),
    batch: sqliteBatch,
    server: { address: 'localhost', port: undefined, database: memory ? ':memory:' : path },
    routing: memory
      ? // One shared connection that never ages out: closing it would lose the database.
        { pool: { size: 1, maxOverflow: 0, recycleMs: 0, idleTimeoutMs: 0, maxUses: 0 } }
      : { writer: { connector: makeConnector('writer'), isWrite: isSqliteWrite } },
  };
}
