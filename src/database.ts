import { performance } from 'node:perf_hooks';
import type { ResolvedConfig } from './config/options.js';
import { describeConfig } from './config/resolve-config.js';
import type { Dialect, QueryResult, StatementOptions, TransactionOptions } from './dialect/dialect.js';
import type { PoolEventMap, PoolEventName } from './pool/events.js';
import type { AcquireOptions, ConnectionPool } from './pool/pool.js';
import type { PoolStats, PoolStatus } from './pool/status.js';
import { mustDiscard, normalizeQuery, type QueryInput, Session } from './query/session.js';

/** Checkout options of `acquire` and `withConnection`. */
export interface SessionOptions extends AcquireOptions {
  /**
   * The borrower only reads. On SQLite this lends a reader connection (many in parallel) instead
   * of the one writer; elsewhere it changes nothing.
   */
  readOnly?: boolean;
}

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy';
  latencyMs: number | undefined;
  dialect: string;
  pool: PoolStatus;
  error?: string;
}

/**
 * What `createPool` returns: the pool plus the query layer. Every method that borrows a
 * connection returns it on every path.
 */
export class Database {
  readonly config: ResolvedConfig;
  readonly dialect: Dialect;
  /** The pool core, for instrumentation and facades. */
  readonly pool: ConnectionPool<unknown>;
  /**
   * SQLite only: the pool of the one writer connection, serving transactions and writing
   * statements; `pool` then serves reads. Undefined on client/server databases.
   */
  readonly writerPool: ConnectionPool<unknown> | undefined;
  readonly #isWrite: ((text: string) => boolean) | undefined;

  constructor(config: ResolvedConfig, dialect: Dialect, pool: ConnectionPool<unknown>, writerPool?: ConnectionPool<unknown>) {
    this.config = config;
    this.dialect = dialect;
    this.pool = pool;
    this.writerPool = writerPool;
    this.#isWrite = writerPool === undefined ? undefined : dialect.routing?.writer?.isWrite;
  }

  /** The pool a borrower goes to: the writer for writes (when the dialect has one), else the main pool. */
  #route(write: boolean): ConnectionPool<unknown> {
    return write && this.writerPool !== undefined ? this.writerPool : this.pool;
  }

  /** Both pools, for events and shutdown. */
  #pools(): ConnectionPool<unknown>[] {
    return this.writerPool === undefined ? [this.pool] : [this.pool, this.writerPool];
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * Run one statement on a pooled connection.
   * @example await db.query('SELECT * FROM users WHERE id = $1', [id], { timeoutMs: 2000 })
   * @example await db.query(sql`SELECT * FROM users WHERE id = ${id}`)
   */
  async query<R = Record<string, unknown>>(
    input: QueryInput,
    paramsOrOptions?: readonly unknown[] | StatementOptions,
    options?: StatementOptions,
  ): Promise<QueryResult<R>> {
    const { text, values, options: statementOptions } = normalizeQuery(this.dialect, input, paramsOrOptions, options);
    const pool = this.#isWrite === undefined ? this.pool : this.#route(this.#isWrite(text));
    const lease = await pool.acquire();
    let result: QueryResult<R>;
    try {
      result = await this.dialect.query<R>(lease.connection, text, values, statementOptions);
    } catch (error) {
      lease.release(mustDiscard(this.dialect, error) ? error : undefined);
      throw error;
    }
    lease.release();
    return result;
  }

  /**
   * Run `fn` in a transaction: commit when it resolves, roll back when it throws. The connection
   * is returned on every path (discarded if it broke).
   * @example await db.transaction(async (tx) => { await tx.query(sql`UPDATE ...`) }, { isolation: 'serializable' })
   */
  async transaction<T>(fn: (tx: Session) => Promise<T>, options?: TransactionOptions & AcquireOptions): Promise<T> {
    return this.withConnection((session) => session.transaction(fn, options), options);
  }

  /** Borrow one connection for several statements (on SQLite the writer, unless `readOnly`). */
  async withConnection<T>(fn: (connection: Session) => Promise<T>, options?: SessionOptions): Promise<T> {
    const session = await this.acquire(options);
    try {
      return await fn(session);
    } finally {
      session.release();
    }
  }

  /**
   * Borrow a connection; call `release()` exactly once (`release(err)` discards it), or use `await using`.
   * @example await using conn = await db.acquire({ timeoutMs: 1000 })
   */
  async acquire(options?: SessionOptions): Promise<Session> {
    return new Session(this.dialect, await this.#route(options?.readOnly !== true).acquire(options));
  }

  /** Pool snapshot: size, maxOverflow, max, checkedIn, checkedOut, overflow, total, waiting. */
  status(): PoolStatus {
    return this.pool.status();
  }

  /** Counters since start. */
  stats(): PoolStats {
    return this.pool.stats();
  }

  /** The effective configuration, safe to show (passwords as ***). */
  describeConfig(): Record<string, unknown> {
    return describeConfig(this.config);
  }

  /** Ping the database through the pool and judge the pool's state. */
  async health(): Promise<HealthReport> {
    const started = performance.now();
    try {
      const lease = await this.pool.acquire({ timeoutMs: Math.min(this.config.checkoutTimeoutMs, 5000) || 5000 });
      try {
        await this.dialect.connector.ping(lease.connection);
        lease.release();
      } catch (error) {
        lease.release(error);
        throw error;
      }
      const pool = this.pool.status();
      const utilization = pool.max === 0 ? 0 : pool.checkedOut / pool.max;
      return {
        status: utilization > 0.8 || pool.waiting > 0 ? 'degraded' : 'healthy',
        latencyMs: performance.now() - started,
        dialect: this.dialect.name,
        pool,
      };
    } catch (error) {
      return {
        status: 'unhealthy',
        latencyMs: undefined,
        dialect: this.dialect.name,
        pool: this.pool.status(),
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  on<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this {
    for (const pool of this.#pools()) pool.on(event, listener);
    return this;
  }

  off<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this {
    for (const pool of this.#pools()) pool.off(event, listener);
    return this;
  }

  once<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this {
    for (const pool of this.#pools()) pool.once(event, listener);
    return this;
  }

  /** Stop new checkouts, wait up to `graceMs` for borrowed connections, then close all. Idempotent. */
  async close(options?: { graceMs?: number }): Promise<void> {
    await Promise.all(this.#pools().map((pool) => pool.close(options)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
