import type { ResolvedConfig } from './config/options.js';
import { describeConfig } from './config/resolve-config.js';
import type { DatabasePool } from './database-pool.js';
import type { Dialect, QueryResult, StatementMultiplexer, StatementOptions, TransactionOptions } from './dialect/dialect.js';
import type { HealthReport } from './observe/health.js';
import type { Observability, PerformanceSummary } from './observe/observability.js';
import { coarseNow } from './pool/clock.js';
import type { PoolEventMap, PoolEventName } from './pool/events.js';
import type { Lease } from './pool/lease.js';
import type { AcquireOptions, ConnectionPool } from './pool/pool.js';
import { type PoolStats, type PoolStatus, statsSince } from './pool/status.js';
import { type BatchInsertOptions, type BatchInsertResult, batchInsert } from './query/batch/batch-insert.js';
import { type BatchSelectOptions, type BatchSelectResult, batchSelectByIds } from './query/batch/batch-select.js';
import { type BatchUpdateOptions, type BatchUpdateResult, batchUpdate } from './query/batch/batch-update.js';
import type { BatchHost } from './query/batch/run.js';
import { createLoader, type LoaderOptions } from './query/loader.js';
import type { QueryObserver } from './query/observer.js';
import { checkoutFailure, mayWrite, retryReason, statementFailure } from './query/outcome.js';
import { mustDiscard, normalizeQuery, type QueryInput, Session } from './query/session.js';
import type { CircuitSnapshot } from './resilience/circuit-breaker.js';
import { checkRetryOptions, type RetryOptions, type RetryReason, withRetry } from './resilience/retry.js';
import { retryAtStart } from './resilience/startup.js';

export type { HealthReport } from './observe/health.js';

/** What `db.resetStats()` cleared: the figures as they stood just before, and when. */
export interface StatsReset {
  pool: string;
  /** ISO 8601. */
  resetAt: string;
  before: {
    stats: PoolStats;
    /** The performance summary (undefined when metrics are off). */
    performance: PerformanceSummary | undefined;
  };
}

/** Checkout options of `acquire` and `withConnection`. */
export interface SessionOptions extends AcquireOptions {
  /**
   * The borrower only reads. On SQLite this lends a reader connection (many in parallel) instead
   * of the one writer; elsewhere it changes nothing.
   */
  readOnly?: boolean;
}

/** Per-call options of `db.query`: the statement's own, plus opt-in retries. */
export interface QueryOptions extends StatementOptions {
  /**
   * Retry failures that cannot have changed the database: nothing sent, or rolled back by the server in
   * a conflict (serialization failure, deadlock). See docs/resilience.md.
   */
  retry?: RetryOptions;
  /** The statement may run twice harmlessly: `retry` then also retries a lost answer (outcome `unknown`). */
  idempotent?: boolean;
}

/** Options of `db.transaction`: isolation, checkout, and opt-in retries of the whole transaction. */
export interface DatabaseTransactionOptions extends TransactionOptions, AcquireOptions {
  /** Run the whole transaction again after a failure that committed nothing (see {@link QueryOptions.retry}). */
  retry?: RetryOptions;
  /** `fn` may run twice harmlessly: `retry` then also retries a COMMIT whose answer was lost (RESULT_UNKNOWN). */
  idempotent?: boolean;
}

/**
 * What `createPool` returns: the pool plus the query layer. Every method that borrows a
 * connection returns it on every path.
 */
export class Database {
  readonly config: ResolvedConfig;
  readonly dialect: Dialect;
  /** Every pool this database owns, each observed from birth: the primary first (SQLite adds its writer). */
  readonly pools: readonly DatabasePool[];
  /** The primary pool's core, for instrumentation and facades. */
  readonly pool: ConnectionPool<unknown>;
  /**
   * The query layer's observation hook (metrics, percentiles, tracing): the observability when it
   * observes anything, else undefined, so the query path checks one field and does no extra work.
   */
  readonly observer: QueryObserver | undefined;
  /** Metrics, health monitor, alerts, tracing and logging of every pool (src/observe). */
  readonly observability: Observability;
  /**
   * SQLite only: the pool of the one writer connection, serving transactions and writing
   * statements; `pool` then serves reads. Undefined on client/server databases.
   */
  readonly writerPool: ConnectionPool<unknown> | undefined;
  readonly #primary: DatabasePool;
  readonly #isWrite: ((text: string) => boolean) | undefined;
  /** Shares `pool`'s connections between plain statements (PostgreSQL pipelining, on by default); undefined when off. */
  readonly multiplexer: StatementMultiplexer | undefined;
  /** Retries by reason since start (`spillway_retries_total{reason}`), kept by the observability. */
  get retryCounts(): Readonly<Record<RetryReason, number>> {
    return this.observability.retryCounts;
  }

  /** Built by createPool (and the drop-in facades) through openDatabase: pools first, each already watched by `observability`. */
  constructor(config: ResolvedConfig, dialect: Dialect, pools: readonly DatabasePool[], observability: Observability) {
    const primary = pools[0];
    if (primary === undefined || primary.role !== 'primary') throw new TypeError('a Database needs its primary pool first');
    this.config = config;
    this.dialect = dialect;
    this.pools = Object.freeze([...pools]);
    this.#primary = primary;
    this.pool = primary.pool;
    this.writerPool = pools.find((p) => p.role === 'writer')?.pool;
    this.multiplexer = primary.multiplexer;
    this.observability = observability;
    this.observer = observability.observing ? observability : undefined;
    this.#isWrite = this.writerPool === undefined ? undefined : dialect.routing?.writer?.isWrite;
  }

  /** The pool a borrower goes to: the writer for writes (when the dialect has one), else the main pool. */
  #route(write: boolean): ConnectionPool<unknown> {
    return write && this.writerPool !== undefined ? this.writerPool : this.pool;
  }

  /** The core pools, for events and shutdown. */
  #pools(): ConnectionPool<unknown>[] {
    return this.pools.map((p) => p.pool);
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * Run one statement on a pooled connection.
   * @example await db.query('SELECT * FROM users WHERE id = $1', [id], { timeoutMs: 2000 })
   * @example await db.query(sql`SELECT * FROM users WHERE id = ${id}`)
   */
  query<R = Record<string, unknown>>(
    input: QueryInput,
    paramsOrOptions?: readonly unknown[] | QueryOptions,
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    // Not async itself: the attempt is the one async frame, as before retries existed; input refused
    // here still rejects rather than throws.
    let normalized: ReturnType<typeof normalizeQuery>;
    try {
      normalized = normalizeQuery(this.dialect, input, paramsOrOptions, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { text, values } = normalized;
    let statementOptions: QueryOptions | undefined = normalized.options;
    if (statementOptions?.retry === undefined && statementOptions?.idempotent === undefined) {
      return this.#queryOnce<R>(text, values, statementOptions, undefined);
    }
    // The driver sees the statement's own options only (an options object costs pg its fast path).
    const { retry, idempotent, ...rest } = statementOptions;
    statementOptions = rest.timeoutMs === undefined && rest.rowMode === undefined ? undefined : rest;
    if (retry === undefined) return this.#queryOnce<R>(text, values, statementOptions, undefined);
    try {
      checkRetryOptions(retry);
    } catch (error) {
      return Promise.reject(error);
    }
    return withRetry(
      (remainingMs) =>
        this.#queryOnce<R>(
          text,
          values,
          statementOptions,
          remainingMs === undefined ? undefined : { timeoutMs: this.#checkoutWithin(remainingMs, undefined) },
        ),
      retry,
      this.#retryPolicy(idempotent === true, undefined),
    );
  }

  /** One attempt of {@link query}. */
  async #queryOnce<R>(
    text: string,
    values: readonly unknown[] | undefined,
    statementOptions: StatementOptions | undefined,
    acquireOptions: AcquireOptions | undefined,
  ): Promise<QueryResult<R>> {
    const observer = this.observer;
    // Only PostgreSQL multiplexes, and it has no writer pool: a shared statement needs no routing.
    if (this.multiplexer?.accepts(text, statementOptions)) {
      return await this.#statement<R>(this.pool, undefined, text, values, statementOptions, observer);
    }
    const pool = this.#isWrite === undefined ? this.pool : this.#route(this.#isWrite(text));
    let lease: Lease<unknown>;
    try {
      // A synchronous driver: with a connection free, checkout, statement and return on this stack.
      lease =
        (this.dialect.querySync === undefined ? undefined : observedTryAcquire(pool, observer)) ??
        (await observedAcquire(pool, observer, acquireOptions));
    } catch (error) {
      throw checkoutFailure(error);
    }
    if (this.dialect.querySync !== undefined) return this.#statementSync<R>(pool, lease, text, values, statementOptions, observer);
    return await this.#statement<R>(pool, lease, text, values, statementOptions, observer);
  }

  /**
   * Run `fn` in a transaction: commit when it resolves, roll back when it throws. The connection
   * is returned on every path (discarded if it broke). With `retry`, the whole transaction runs again
   * after a failure that committed nothing (nothing sent, a serialization failure, a deadlock).
   * @example await db.transaction(async (tx) => { await tx.query(sql`UPDATE ...`) }, { isolation: 'serializable' })
   */
  async transaction<T>(fn: (tx: Session) => Promise<T>, options?: DatabaseTransactionOptions): Promise<T> {
    const retry = options?.retry;
    if (retry === undefined) return this.withConnection((session) => session.transaction(fn, options), options);
    checkRetryOptions(retry);
    return withRetry(
      (remainingMs) => {
        const acquireOptions =
          remainingMs === undefined ? options : { ...options, timeoutMs: this.#checkoutWithin(remainingMs, options?.timeoutMs) };
        return this.withConnection((session) => session.transaction(fn, options), acquireOptions);
      },
      retry,
      this.#retryPolicy(options?.idempotent === true, options?.signal),
    );
  }

  /** A retried attempt's checkout waits no longer than the caller's deadline leaves (0 would mean forever). */
  #checkoutWithin(remainingMs: number, asked: number | undefined): number {
    const usual = asked ?? this.config.checkoutTimeoutMs;
    return Math.max(1, Math.ceil(usual > 0 ? Math.min(usual, remainingMs) : remainingMs));
  }

  #retryPolicy(idempotent: boolean, signal: AbortSignal | undefined) {
    const counts = this.retryCounts as Record<RetryReason, number>;
    return {
      reasonFor: (error: unknown) => retryReason(this.dialect, error, idempotent),
      onRetry: (reason: RetryReason) => {
        counts[reason]++;
      },
      signal,
    };
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
    const pool = this.#route(options?.readOnly !== true);
    const observer = this.observer;
    try {
      if (observer === undefined) return new Session(this.dialect, await pool.acquire(options), pool.gate);
      return new Session(this.dialect, await observedAcquire(pool, observer, options), pool.gate, observer);
    } catch (error) {
      throw checkoutFailure(error);
    }
  }

  /**
   * Wait until the database answers: open one connection, retrying connectivity failures with
   * exponential backoff and jitter for up to `initializationTimeoutMs`, then fail with one
   * CONNECT_TIMEOUT error carrying the last failure. Optional: the pool also connects lazily.
   * @example await db.ready() // at start-up, before taking traffic
   */
  ready(): Promise<void> {
    this.#ready ??= retryAtStart(() => this.pool.probe(), this.#retryOptions('connecting')).catch((error) => {
      this.#ready = undefined; // a later call tries again
      throw error;
    });
    return this.#ready;
  }

  /**
   * Run schema creation or migrations once the database is reachable, retrying `fn` the way `ready()`
   * retries when it fails on connectivity (never on a SQL error). Make `fn` idempotent
   * (`CREATE TABLE IF NOT EXISTS`, or a migration table): a retried attempt runs it again.
   * @example await db.initDb((db) => db.query('CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY)'))
   */
  async initDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    await this.ready();
    return retryAtStart(() => fn(this), this.#retryOptions('initDb'));
  }

  /** The circuit breaker's state (closed, open, half-open), failures counted and time to the next trial. */
  circuit(): CircuitSnapshot | undefined {
    return this.#primary.circuit();
  }

  #ready: Promise<void> | undefined = undefined;

  #retryOptions(what: string) {
    return {
      timeoutMs: this.config.initializationTimeoutMs,
      target: this.dialect.connector.target,
      what,
      isDisconnect: (error: unknown) => mustDiscard(this.dialect, error),
    };
  }

  /** Pool snapshot: size, maxOverflow, max, checkedIn, checkedOut, overflow, total, waiting. */
  status(): PoolStatus {
    return this.pool.status();
  }

  /** The pool's own counters when stats() was last reset; the pool core's counters only ever grow. */
  #statsBaseline: PoolStats | undefined = undefined;
  #statsSince = Date.now();

  /** Counters since start, or since the last {@link resetStats}. */
  stats(): PoolStats {
    const totals = this.pool.stats();
    return this.#statsBaseline === undefined ? totals : statsSince(totals, this.#statsBaseline);
  }

  /** When `stats()` began counting: the pool's creation or its last reset (ISO 8601). */
  get statsSince(): string {
    return new Date(this.#statsSince).toISOString();
  }

  /**
   * Start the statistics over: `stats()` counts from now, and the performance summary's windows
   * (checkout-wait and statement percentiles, failure rates) and totals are emptied. Prometheus
   * metrics are not touched: their counters keep growing, as `rate()` needs. Returns the figures as
   * they were just before, so nothing is lost between reading and resetting.
   * @example const { before } = db.resetStats(); log.info(before.stats, 'pool statistics before the reset')
   */
  resetStats(): StatsReset {
    const now = Date.now();
    const before = { stats: this.stats(), performance: this.observability.performance() };
    this.#statsBaseline = this.pool.stats();
    this.#statsSince = now;
    this.observability.resetWindows(now);
    return { pool: this.name, resetAt: new Date(now).toISOString(), before };
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
    return this.observability.health.check();
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

  /**
   * Insert many rows with multi-row INSERTs split at the bind-parameter limit; one transaction
   * unless `tx` is given (then a savepoint in it). See docs/batch.md.
   * @example await db.batchInsert('users', rows, { returning: ['id'], onConflict: { do: 'nothing', target: ['email'] } })
   */
  batchInsert<R = Record<string, unknown>>(
    table: string,
    rows: readonly Record<string, unknown>[],
    options?: BatchInsertOptions,
  ): Promise<BatchInsertResult<R>> {
    return batchInsert<R>(this.#batchHost(), table, rows, options);
  }

  /**
   * Rows for many ids in one round trip where possible, in the order asked, with the missing ids.
   * @example const { rows, missing } = await db.batchSelectByIds('users', [3, 1, 2], { columns: ['id', 'name'] })
   */
  batchSelectByIds<R = Record<string, unknown>>(
    table: string,
    ids: readonly unknown[],
    options?: BatchSelectOptions,
  ): Promise<BatchSelectResult<R>> {
    return batchSelectByIds<R>(this.#batchHost(), table, ids, options);
  }

  /**
   * Update many rows by key, one statement per chunk.
   * @example await db.batchUpdate('users', [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], { key: 'id' })
   */
  batchUpdate(table: string, rows: readonly Record<string, unknown>[], options: BatchUpdateOptions): Promise<BatchUpdateResult> {
    return batchUpdate(this.#batchHost(), table, rows, options);
  }

  /**
   * A request-scoped DataLoader: `load(id)` calls made in one tick become one batchSelectByIds.
   * @example const authors = db.loader('authors'); await Promise.all(books.map((b) => authors.load(b.author_id)))
   */
  loader<K = unknown, R = Record<string, unknown>>(table: string, options?: LoaderOptions) {
    return createLoader<K, R>(this.#batchHost(), table, options);
  }

  #batchHost(): BatchHost {
    return { dialect: this.dialect, withSession: (fn, readOnly) => this.withConnection(fn, { readOnly }) };
  }

  /** Stop new checkouts, wait up to `graceMs` for borrowed connections, then close all. Idempotent. */
  async close(options?: { graceMs?: number }): Promise<void> {
    this.observability.stop();
    // Shared connections go home first, so the pool's grace period is not spent waiting for them.
    await this.multiplexer?.close(options?.graceMs);
    await Promise.all(this.#pools().map((pool) => pool.close(options)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * One statement on `lease`, or on a shared connection when there is none (multiplexing), observed
   * (metrics, spans) and reported to the circuit breaker the same way. The lease goes home on every
   * path, discarded when the connection broke. A shared statement's checkout is the multiplexer's,
   * reported by the pool's checkout/checkin events with `shared: true`, so it has no checkout span.
   */
  async #statement<R>(
    pool: ConnectionPool<unknown>,
    lease: Lease<unknown> | undefined,
    text: string,
    values: readonly unknown[] | undefined,
    statementOptions: StatementOptions | undefined,
    observer: QueryObserver | undefined,
  ): Promise<QueryResult<R>> {
    const token = observer?.queryStart(text);
    const startedAt = pool.gate?.statementResult === undefined ? 0 : coarseNow();
    let result: QueryResult<R>;
    try {
      result =
        lease === undefined
          ? await (this.multiplexer as StatementMultiplexer).query<R>(text, values, statementOptions)
          : await this.dialect.query<R>(lease.connection, text, values, statementOptions);
    } catch (error) {
      this.#settle(pool, lease, observer, token, startedAt, error);
      throw statementFailure(error, mayWrite(text) ? 'write' : undefined);
    }
    this.#settle(pool, lease, observer, token, startedAt, undefined);
    return result;
  }

  /**
   * {@link #statement} on a synchronous driver (the dialect's `querySync`): the statement runs on this
   * stack, so the caller's promise is the only one (see Dialect.querySync).
   */
  #statementSync<R>(
    pool: ConnectionPool<unknown>,
    lease: Lease<unknown>,
    text: string,
    values: readonly unknown[] | undefined,
    statementOptions: StatementOptions | undefined,
    observer: QueryObserver | undefined,
  ): QueryResult<R> {
    const token = observer?.queryStart(text);
    const startedAt = pool.gate?.statementResult === undefined ? 0 : coarseNow();
    let result: QueryResult<R>;
    try {
      result = (this.dialect.querySync as NonNullable<Dialect['querySync']>)<R>(lease.connection, text, values, statementOptions);
    } catch (error) {
      this.#settle(pool, lease, observer, token, startedAt, error);
      throw statementFailure(error, mayWrite(text) ? 'write' : undefined);
    }
    this.#settle(pool, lease, observer, token, startedAt, undefined);
    return result;
  }

  /**
   * A statement's outcome, reported and the lease sent home: to the observer, to the pool (discarded
   * when the connection broke) and to the circuit breaker. Returns `error`, for the caller to throw.
   */
  #settle(
    pool: ConnectionPool<unknown>,
    lease: Lease<unknown> | undefined,
    observer: QueryObserver | undefined,
    token: unknown,
    startedAt: number,
    error: unknown,
  ): unknown {
    observer?.queryEnd(token, error, error === undefined ? undefined : this.dialect.classifyFailure(error));
    const report = pool.gate?.statementResult;
    if (error === undefined) {
      lease?.release();
      report?.(undefined, startedAt);
      return undefined;
    }
    const broken = mustDiscard(this.dialect, error);
    lease?.release(broken ? error : undefined);
    if (broken) report?.(error, startedAt);
    return error;
  }
}

/** {@link ConnectionPool.tryAcquire} with its (instant) checkout span, when tracing is on. */
function observedTryAcquire(pool: ConnectionPool<unknown>, observer: QueryObserver | undefined): Lease<unknown> | undefined {
  if (observer === undefined) return pool.tryAcquire();
  let lease: Lease<unknown> | undefined;
  try {
    lease = pool.tryAcquire();
  } catch (error) {
    observer.checkoutEnd(observer.checkoutStart(pool.name), error);
    throw error;
  }
  if (lease !== undefined) observer.checkoutEnd(observer.checkoutStart(pool.name), undefined);
  return lease;
}

/**
 * A checkout reported to the observer, if any (for the checkout span); the pool's events carry its
 * wait time. Not async: without a token (no span) it is the pool's own promise, with no extra tick.
 */
function observedAcquire(pool: ConnectionPool<unknown>, observer: QueryObserver | undefined, options: AcquireOptions | undefined) {
  const token = observer?.checkoutStart(pool.name);
  if (observer === undefined || token === undefined) return pool.acquire(options);
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
