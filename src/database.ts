import type { ResolvedConfig } from './config/options.js';
import { describeConfig } from './config/resolve-config.js';
import type { Dialect, QueryResult, StatementOptions, TransactionOptions } from './dialect/dialect.js';
import { HealthMonitor, type HealthReport } from './observe/health.js';
import type { Observability } from './observe/observability.js';
import type { PoolEventMap, PoolEventName } from './pool/events.js';
import type { AcquireOptions, ConnectionPool } from './pool/pool.js';
import type { PoolStats, PoolStatus } from './pool/status.js';
import type { QueryObserver } from './query/observer.js';
import { mustDiscard, normalizeQuery, type QueryInput, Session } from './query/session.js';

export type { HealthReport } from './observe/health.js';

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
   * The query layer's observation hook (metrics, percentiles, tracing), set by createPool when
   * instrumentation is on. Checked once per call; undefined means the query path does no extra work.
   */
  observer: QueryObserver | undefined = undefined;
  /** Metrics, health monitor, alerts and logging of this pool (src/observe), attached by createPool. */
  observability: Observability | undefined = undefined;
  #health: HealthMonitor | undefined = undefined;

  constructor(config: ResolvedConfig, dialect: Dialect, pool: ConnectionPool<unknown>) {
    this.config = config;
    this.dialect = dialect;
    this.pool = pool;
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
    if (this.observer !== undefined) return this.#observedQuery<R>(this.observer, text, values, statementOptions);
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
    const observer = this.observer;
    if (observer === undefined) return new Session(this.dialect, await this.pool.acquire(options));
    return new Session(this.dialect, await observedAcquire(this.pool, observer, options), observer);
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

  /**
   * Ping the database through the pool and judge it: `{ status, latencyMs, pool, circuit, alerts }`.
   * The logic lives in src/observe/health.ts; this is the entry point.
   */
  async health(): Promise<HealthReport> {
    if (this.observability !== undefined) return this.observability.health.check();
    // Built without createPool: judge on demand, without background checks or alerts.
    this.#health ??= new HealthMonitor(this);
    return this.#health.check();
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
    this.observability?.stop();
    return this.pool.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #observedQuery<R>(
    observer: QueryObserver,
    text: string,
    values: readonly unknown[] | undefined,
    statementOptions: StatementOptions | undefined,
  ): Promise<QueryResult<R>> {
    const lease = await observedAcquire(this.pool, observer, undefined);
    const token = observer.queryStart(text);
    let result: QueryResult<R>;
    try {
      result = await this.dialect.query<R>(lease.connection, text, values, statementOptions);
    } catch (error) {
      observer.queryEnd(token, error);
      lease.release(mustDiscard(this.dialect, error) ? error : undefined);
      throw error;
    }
    observer.queryEnd(token, undefined);
    lease.release();
    return result;
  }
}

/**
 * A checkout reported to the observer (for the checkout span); the pool's events carry its wait time.
 * Not async: without a token (no span) it is the pool's own promise, with no extra tick.
 */
function observedAcquire(pool: ConnectionPool<unknown>, observer: QueryObserver, options: AcquireOptions | undefined) {
  const token = observer.checkoutStart();
  if (token === undefined) return pool.acquire(options);
  return pool.acquire(options).then(
    (lease) => {
      observer.checkoutEnd(token, undefined);
      return lease;
    },
    (error: unknown) => {
      observer.checkoutEnd(token, error);
      throw error;
    },
  );
}
