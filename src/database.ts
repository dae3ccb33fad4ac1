import { performance } from 'node:perf_hooks';
import type { ResolvedConfig } from './config/options.js';
import { describeConfig } from './config/resolve-config.js';
import type { Dialect, QueryResult, StatementMultiplexer, StatementOptions, TransactionOptions } from './dialect/dialect.js';
import type { PoolEventMap, PoolEventName } from './pool/events.js';
import type { AcquireOptions, ConnectionPool } from './pool/pool.js';
import type { PoolStats, PoolStatus } from './pool/status.js';
import { mustDiscard, normalizeQuery, type QueryInput, Session } from './query/session.js';

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
  /** Shares connections between plain statements (PostgreSQL pipelining); undefined when off. */
  readonly multiplexer: StatementMultiplexer | undefined;

  constructor(config: ResolvedConfig, dialect: Dialect, pool: ConnectionPool<unknown>, multiplexer?: StatementMultiplexer) {
    this.config = config;
    this.dialect = dialect;
    this.pool = pool;
    this.multiplexer = multiplexer;
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
    const multiplexer = this.multiplexer;
    if (multiplexer?.accepts(text, statementOptions)) return multiplexer.query<R>(text, values, statementOptions);
    const lease = await this.pool.acquire();
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

  /** Borrow one connection for several statements. */
  async withConnection<T>(fn: (connection: Session) => Promise<T>, options?: AcquireOptions): Promise<T> {
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
  async acquire(options?: AcquireOptions): Promise<Session> {
    return new Session(this.dialect, await this.pool.acquire(options));
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
    this.pool.on(event, listener);
    return this;
  }

  off<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this {
    this.pool.off(event, listener);
    return this;
  }

  once<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this {
    this.pool.once(event, listener);
    return this;
  }

  /** Stop new checkouts, wait up to `graceMs` for borrowed connections, then close all. Idempotent. */
  close(options?: { graceMs?: number }): Promise<void> {
    // Shared connections go home first, so the pool's grace period is not spent waiting for them.
    if (this.multiplexer !== undefined) return this.multiplexer.close(options?.graceMs).then(() => this.pool.close(options));
    return this.pool.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
