import type { DialectName, ResolvedConfig } from '../config/options.js';
import type { Connector } from '../pool/connector.js';
import type { ConnectionPool, CorePoolSettings } from '../pool/pool.js';
import type { BatchDialect } from './batch-dialect.js';
import type { ShapeView, SharedLeasesStatus } from './multiplexing.js';
import type { DialectStatementOptions, QueryResult, StatementOptions } from './statement.js';

export type { ShapeView, SharedLeasesStatus } from './multiplexing.js';
export type { DialectStatementOptions, QueryResult, StatementOptions } from './statement.js';

/**
 * How a failed statement counts. `constraint_violation` (SQLSTATE class 23: unique, foreign key,
 * not null, check) and `data_exception` (class 22: a value out of range, too long, malformed) are the
 * application's errors: its input broke a rule of the schema while the database works as it should,
 * so they stay out of the failure-rate alert and health. `failure` is everything else (syntax,
 * permissions, timeouts, lost connections).
 */
export type StatementFailureKind = 'constraint_violation' | 'data_exception' | 'failure';

/** Why the server rolled a transaction back in favour of another: see {@link Dialect.transactionConflict}. */
export type TransactionConflict = 'serialization' | 'deadlock' | 'lock_timeout';

export type IsolationLevel = 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
}

/**
 * Everything SQL-shaped about one database. The pool core sees only `connector`; the query layer
 * uses the rest. One folder per dialect under src/dialect, the only place its driver is imported.
 */
export interface Dialect<C = unknown> {
  readonly name: DialectName;
  readonly connector: Connector<C>;
  /** Run one statement with the dialect's own placeholders. Maps timeouts and disconnects to SpillwayErrors. */
  query<R = Record<string, unknown>>(
    connection: C,
    text: string,
    params: readonly unknown[] | undefined,
    options: DialectStatementOptions | undefined,
  ): Promise<QueryResult<R>>;
  /**
   * Optional, for synchronous drivers (better-sqlite3): `query` on the caller's stack, returning the
   * result or throwing the mapped error. The query layer then runs a borrowed statement without a
   * promise of its own, which on a point read of a few microseconds is a measurable share.
   */
  querySync?<R = Record<string, unknown>>(
    connection: C,
    text: string,
    params: readonly unknown[] | undefined,
    options: DialectStatementOptions | undefined,
  ): QueryResult<R>;
  /** The dialect's judgement of a failed statement's error (it knows its error codes). Pure. */
  classifyFailure(error: unknown): StatementFailureKind;
  /**
   * Optional: the server rolled the transaction back in a conflict with another one, so running it
   * again may succeed (PostgreSQL 40001/40P01, MySQL 1213/1205). `retry` on db.transaction uses it. Pure.
   */
  transactionConflict?(error: unknown): TransactionConflict | undefined;
  /** The placeholder for the 1-based parameter `index` ($1 or ?). */
  placeholder(index: number): string;
  /** Quote a plain identifier for this dialect. */
  quoteIdentifier(name: string): string;
  begin(connection: C, options: TransactionOptions | undefined): Promise<void>;
  commit(connection: C): Promise<void>;
  rollback(connection: C): Promise<void>;
  /** Limits and SQL shapes of set-at-a-time statements (batchInsert, batchSelectByIds, batchUpdate). */
  readonly batch: BatchDialect;
  /** Attributes for tracing and health (server address, port, database). */
  readonly server: { address: string; port: number | undefined; database: string | undefined };
  /** Optional: a dialect whose connections must not share write locks (SQLite) shapes its pools here. */
  readonly routing?: DialectRouting<C>;
  /**
   * Optional: share the pool's connections between plain statements, several in flight on each
   * (PostgreSQL pipelining). The pool is typed loosely, as `openDatabase` builds it: its connections
   * come from this dialect's connector.
   */
  createMultiplexer?(pool: ConnectionPool<unknown>): StatementMultiplexer;
}

/**
 * How a dialect wants its pools shaped, when one pool of equal connections does not fit (SQLite).
 * Absent for client/server databases.
 */
export interface DialectRouting<C = unknown> {
  /** Settings forced on the main pool (`sqlite::memory:` is one shared connection: size 1, no recycling). */
  readonly pool?: Partial<CorePoolSettings>;
  /**
   * A second pool of exactly one connection that serves transactions and writing statements, one
   * borrower at a time; the main pool then serves reads only.
   */
  readonly writer?: {
    readonly connector: Connector<C>;
    /** True when a statement outside a transaction must run on the writer. */
    isWrite(text: string): boolean;
  };
}

/** One statement shape as the multiplexer learned it: {@link StatementMultiplexer.shapes}. */
export type StatementShape = Omit<ShapeView, 'key'> & {
  /** The statement text with its literals replaced by `?`, cut at 200 characters. */
  statement: string;
};

/** Runs plain statements (outside transactions and checkouts) on shared connections. */
export interface StatementMultiplexer {
  /** True when this statement may share a connection (no per-call timeout, no session state such as BEGIN or SET). */
  accepts(text: string, options: StatementOptions | undefined): boolean;
  query<R = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] | undefined,
    options: StatementOptions | undefined,
  ): Promise<QueryResult<R>>;
  /** Connections held, statements in flight or waiting for room, measured server time per statement, runs by mode. */
  readonly status: SharedLeasesStatus;
  /**
   * The statement shapes (texts, literals redacted) that kept connections busy longest, with their
   * learned cost and whether they run shared (pipelined) or exclusive (alone on a connection).
   */
  shapes(limit?: number): StatementShape[];
  /** Take no new statements, let those in flight finish (up to graceMs), give the connections back. */
  close(graceMs?: number): Promise<void>;
}

/** Builds a dialect from the resolved configuration. */
export type DialectFactory = (config: ResolvedConfig) => Dialect;

export const ISOLATION_SQL: Readonly<Record<IsolationLevel, string>> = {
  'read uncommitted': 'READ UNCOMMITTED',
  'read committed': 'READ COMMITTED',
  'repeatable read': 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
};

/** Resolve a `password` setting (string or async function) for one new connection. */
export async function resolvePassword(config: ResolvedConfig, fromUrl: string | undefined): Promise<string | undefined> {
  const setting = config.password;
  if (typeof setting === 'function') return await setting();
  return setting ?? fromUrl;
}
