import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../../config/resolve-config.js';
import { openDatabase } from '../../create-pool.js';
import type { Database } from '../../database.js';
import { createMysqlDialect, mysqlSessionSettings } from '../../dialect/mysql/mysql-dialect.js';
import { isMysqlDisconnect, isMysqlReadOnly } from '../../dialect/mysql/mysql-errors.js';
import { PoolClosedError, PoolTimeoutError, SpillwayError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import type { Lease } from '../../pool/lease.js';
import type { ConnectionPool } from '../../pool/pool.js';
import { WRITER_MOVED_DEFAULTS, WriterMovedDetector } from '../../resilience/writer-moved.js';
import type { MysqlPoolConfig, MysqlPoolPlan } from './mysql-pool-options.js';
import { planMysqlPool } from './mysql-pool-options.js';
import { type CoreConnection, LEASE, mysql2Callback, mysql2Promise, type QueryCallback, type QueryCommand } from './mysql2-shapes.js';

type Callback<T> = (error: Error | null, value?: T) => void;

/** Marks a connection opened since it was last lent: its first borrower gets `acquire` even after waiting (mysql2 opens it for them). */
const FRESH = Symbol('spillway.fresh');
type PooledConnection = CoreConnection & { [FRESH]?: boolean };

/** mysql2's messages, which applications match in their retry logic. */
export const MYSQL2_POOL_MESSAGES = Object.freeze({
  closed: 'Pool is closed.',
  noConnections: 'No connections available.',
  queueLimit: 'Queue limit reached.',
});

/** A Spillway error (stable `code`) carrying mysql2's message instead of its own. */
function withMessage<E extends Error>(error: E, message: string): E {
  const original = error.message;
  error.message = message;
  if (typeof error.stack === 'string') error.stack = error.stack.replace(original, message);
  return error;
}

/**
 * What an application meets where mysql2's pool gives up: its messages, Spillway's codes. A connect
 * that failed on the socket reaches the caller as mysql2's own error (ECONNREFUSED, ...), not wrapped.
 */
function asMysql2Error(error: unknown): unknown {
  if (error instanceof PoolClosedError) return withMessage(error, MYSQL2_POOL_MESSAGES.closed);
  if (error instanceof SpillwayError && error.code === 'CONNECTION_LOST' && error.cause instanceof Error) return error.cause;
  if (error instanceof SpillwayError && error.code === 'CONNECT_TIMEOUT') {
    // The pool's connect timer fired before mysql2's own (both are connectTimeout): mysql2's error.
    return Object.assign(new Error('connect ETIMEDOUT', { cause: error }), {
      errorno: 'ETIMEDOUT',
      code: 'ETIMEDOUT',
      syscall: 'connect',
      fatal: true,
    });
  }
  return error;
}

function identity<T>(value: T): T {
  return value;
}

function rethrowAsMysql2(error: unknown): never {
  throw asMysql2Error(error);
}

/**
 * The pool `spillway/mysql/callback`'s createPool returns, and the `.pool` of the promise pool: mysql2's
 * callback pool API (`getConnection(cb)`, `query(sql, values, cb)` returning mysql2's Query, `execute`,
 * `end(cb)`, the events `acquire`, `connection`, `enqueue`, `release`, `promise()`) on Spillway's pool.
 * Connections handed out are mysql2's own, with `release()` and `destroy()` as mysql2's pool gives them.
 */
export class CallbackPool extends EventEmitter {
  /** The Spillway database underneath: status(), stats(), health(), events, HTTP endpoints. */
  readonly spillway: Database;
  /** mysql2's pool settings (`pool.config`): connectionLimit, maxIdle, idleTimeout, queueLimit, ... and connectionConfig. */
  readonly config: MysqlPoolPlan['mysql2'] & { connectionConfig: Record<string, unknown> };
  /** The promise implementation `promise()` hands to the pools it makes when given none. */
  readonly Promise: PromiseConstructor;
  readonly #core: ConnectionPool<PooledConnection>;
  readonly #plan: MysqlPoolPlan;
  /** Every connection open now: a burst of read-only errors retires them all. */
  readonly #connections = new Set<PooledConnection>();
  readonly #writerMoved = new WriterMovedDetector({ ...WRITER_MOVED_DEFAULTS, now: () => performance.now() });
  /** Lend synchronously when an idle connection is free (no breaker, no leak detection to admit the caller). */
  readonly #lendNow: boolean;
  readonly #reapAboveMaxIdle: boolean;
  #started = false;
  #closed = false;

  constructor(config: MysqlPoolConfig | string) {
    super();
    this.#plan = planMysqlPool(config);
    this.config = { ...this.#plan.mysql2, connectionConfig: this.#plan.connectionOptions };
    this.Promise = (typeof config === 'object' ? (config.Promise as PromiseConstructor | undefined) : undefined) ?? Promise;
    const resolved = resolveConfig(this.#plan.options);
    const dialect = createMysqlDialect(resolved, {
      connectionOptions: this.#plan.connectionOptions,
      sessionSettings: this.#plan.sessionSettings,
    });
    const connector = this.#withPoolHooks(dialect.connector as Connector<PooledConnection>);
    this.spillway = openDatabase(resolved, { ...dialect, connector } as typeof dialect, { circuitBreaker: this.#plan.circuitBreaker });
    this.#core = this.spillway.pool as ConnectionPool<PooledConnection>;
    this.#lendNow = this.#core.gate === undefined;
    this.#reapAboveMaxIdle = this.#plan.mysql2.maxIdle < this.#plan.mysql2.connectionLimit;
  }

  /** Check out a connection: `cb(null, connection)`; `connection.release()` returns it, `destroy()` closes it. */
  getConnection(callback: Callback<CoreConnection>): void {
    this.checkout().then(
      (connection) => callback(null, connection),
      (error: Error) => callback(error),
    );
  }

  /** Return a connection checked out with getConnection. */
  releaseConnection(connection: { release(): void }): void {
    connection.release();
  }

  /**
   * Run one statement on a pooled connection, as mysql2's pool.query: returns mysql2's Query (a stream
   * of its rows when no callback is given). A read-only error (the server is no longer the writer)
   * discards the connection; a burst of them retires every connection.
   */
  query(sql: unknown, values?: unknown, callback?: QueryCallback): QueryCommand {
    const command = mysql2Callback().createQuery(sql, values, callback, this.config.connectionConfig);
    if (command.namedPlaceholders === undefined)
      command.namedPlaceholders = this.config.connectionConfig.namedPlaceholders as boolean | undefined;
    const run = (connection: PooledConnection): void => {
      let failure: Error | null = null;
      const onResult = command.onResult;
      if (onResult !== undefined) {
        command.onResult = (error, rows, fields) => {
          failure = error ?? null;
          onResult(error, rows, fields);
        };
      } else command.once('error', (error: Error) => (failure = error));
      try {
        connection.query(command).once('end', () => this.settle(connection, failure));
      } catch (error) {
        this.settle(connection, null);
        failOn(command, error as Error);
      }
    };
    // A free connection runs the statement now (its answer comes back asynchronously all the same).
    const lent = this.lendNow();
    if (lent !== undefined) run(lent);
    else this.borrowThen(run, (error) => failOn(command, error));
    return command;
  }

  /** Run one prepared statement on a pooled connection, as mysql2's pool.execute. */
  execute(sql: unknown, values?: unknown, callback?: QueryCallback): void {
    let args = values;
    let done = callback;
    if (typeof args === 'function') {
      done = args as QueryCallback;
      args = [];
    }
    const run = (connection: PooledConnection): void => {
      try {
        connection.execute(sql, args, (error, rows, fields) => {
          this.settle(connection, error);
          done?.(error, rows, fields);
        });
      } catch (error) {
        this.settle(connection, null);
        done?.(error as Error);
      }
    };
    const lent = this.lendNow();
    if (lent !== undefined) run(lent);
    else this.borrowThen(run, (error) => done?.(error));
  }

  /**
   * Close the pool as mysql2 does: queued checkouts fail with `Pool is closed.`, every connection
   * (borrowed ones too) is closed with COM_QUIT, then `callback` runs. A borrower's later release()
   * does nothing.
   */
  end(callback?: (error?: Error | null) => void): void {
    this.#closed = true;
    this.#core.close({ graceMs: 0 }).then(
      () => callback?.(),
      (error: Error) => {
        if (callback === undefined) throw error;
        callback(error);
      },
    );
  }

  /** True once end() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  escape(value: unknown): string {
    return mysql2Callback().escape(value);
  }

  escapeId(value: unknown): string {
    return mysql2Callback().escapeId(value);
  }

  format(sql: string, values?: unknown): string {
    return mysql2Callback().format(sql, values);
  }

  /** The promise API on this same pool, as mysql2's `pool.promise()`. */
  promise(promiseImpl?: PromiseConstructor): unknown {
    return new (promisePoolClass as NonNullable<typeof promisePoolClass>)(this, promiseImpl ?? this.Promise);
  }

  [Symbol.dispose](): void {
    if (!this.#closed) this.end();
  }

  // ---- shared with the promise pool (same module family, not public API) -------------------------

  /** Borrow a connection, lent as mysql2's pool lends it (events, FIFO queue, waitForConnections, queueLimit). */
  checkout(): Promise<PooledConnection> {
    const lent = this.lendNow();
    return lent !== undefined ? Promise.resolve(lent) : this.borrow(identity);
  }

  /**
   * Borrow a connection and `use` it, in one promise step: a statement waiting for a connection starts
   * in the same microtask that lends it. `use` must not throw. Call lendNow() first for the free case.
   */
  borrow<T>(use: (connection: PooledConnection) => T): Promise<Awaited<T>> {
    const refusal = this.#refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const queued = this.#queued;
    return this.#core.acquire().then((lease) => use(this.#handOut(lease, queued)), rethrowAsMysql2) as Promise<Awaited<T>>;
  }

  /**
   * borrow() for callback callers: `use` or `fail` is called, never both, and always asynchronously
   * (a streamed Query gets its listeners first), with one promise reaction and no promise for the caller.
   */
  borrowThen(use: (connection: PooledConnection) => void, fail: (error: Error) => void): void {
    const refusal = this.#refusal();
    if (refusal !== undefined) {
      process.nextTick(fail, refusal);
      return;
    }
    const queued = this.#queued;
    this.#core.acquire().then(
      (lease) => use(this.#handOut(lease, queued)),
      (error: unknown) => fail(asMysql2Error(error) as Error),
    );
  }

  /** Whether the checkout being decided by #refusal() queues (read by the caller right after). */
  #queued = false;

  /**
   * Why a checkout fails at once (closed, waitForConnections: false, queueLimit), as mysql2's errors;
   * undefined when it may go ahead, with #queued telling whether it waits. Emits `enqueue`.
   */
  #refusal(): Error | undefined {
    this.#queued = false;
    if (this.#closed) return withMessage(new PoolClosedError(this.#core.name), MYSQL2_POOL_MESSAGES.closed);
    if (!this.#started) {
      // Started on first use: creating a mysql2 pool opens nothing.
      this.#started = true;
      this.#core.start();
    }
    const { waitForConnections, queueLimit } = this.#plan;
    // The pool's status is read only when something depends on whether this caller queues.
    const watched = !waitForConnections || queueLimit > 0 || this.listenerCount('enqueue') > 0 || this.listenerCount('acquire') > 0;
    if (!watched) return undefined;
    const status = this.#core.status();
    if (status.checkedIn === 0 && status.total >= status.max) {
      if (!waitForConnections) return withMessage(new PoolTimeoutError(this.#core.name, status, 0), MYSQL2_POOL_MESSAGES.noConnections);
      if (queueLimit > 0 && status.waiting >= queueLimit) {
        return withMessage(new PoolTimeoutError(this.#core.name, status, 0), MYSQL2_POOL_MESSAGES.queueLimit);
      }
      this.#queued = true;
      this.emit('enqueue');
    }
    return undefined;
  }

  /** A free connection lent on the caller's stack, or undefined when checkout() must wait, open or validate one. */
  lendNow(): PooledConnection | undefined {
    if (!this.#lendNow || this.#closed) return undefined;
    const lease = this.#core.tryAcquire();
    return lease === undefined ? undefined : this.#handOut(lease, false);
  }

  /**
   * A statement run by the pool itself (query, execute) is over: return its connection, or discard it
   * when the statement broke it or found the server read-only.
   */
  settle(connection: PooledConnection, error: Error | null | undefined): void {
    if (error == null) this.giveBack(connection, undefined);
    else if (isMysqlReadOnly(error)) this.#readOnly(connection, error);
    else this.giveBack(connection, isMysqlDisconnect(error) ? error : undefined);
  }

  /** Return a lent connection; with an error (or after destroy()) it is closed instead. Once only: later calls do nothing, as in mysql2. */
  giveBack(connection: PooledConnection, error: unknown): void {
    const lease = connection[LEASE];
    if (lease === undefined) return;
    connection[LEASE] = undefined;
    if (this.#closed || error !== undefined) {
      lease.release(error);
      return;
    }
    if (this.#plan.resetOnRelease) this.#resetThenReturn(connection, lease);
    else this.#return(connection, lease);
  }

  // ---- internals -------------------------------------------------------------------------------

  #handOut(lease: Lease<PooledConnection>, queued: boolean): PooledConnection {
    const connection = lease.connection;
    connection[LEASE] = lease;
    // mysql2 emits acquire when it lends from its free list or opens a connection for the caller,
    // not when a released connection goes straight to a queued caller.
    if (!queued || connection[FRESH] === true) this.emit('acquire', connection);
    connection[FRESH] = false;
    return connection;
  }

  #return(connection: PooledConnection, lease: Lease<PooledConnection>): void {
    // mysql2 emits release when the connection goes back to its free list, not when a waiter takes it.
    const toFreeList = this.listenerCount('release') > 0 && this.#core.status().waiting === 0;
    lease.release();
    if (toFreeList) this.emit('release', connection);
    // mysql2 keeps at most maxIdle free connections (when maxIdle < connectionLimit).
    if (this.#reapAboveMaxIdle && this.#core.status().checkedIn > this.#plan.mysql2.maxIdle) this.#core.care.retire(connection, 'idle');
  }

  /** mysql2's resetOnRelease: COM_RESET_CONNECTION first; a connection that cannot be reset is closed. */
  #resetThenReturn(connection: PooledConnection, lease: Lease<PooledConnection>): void {
    connection.reset((error) => {
      if (error) {
        lease.release(error);
        return;
      }
      if (!this.#plan.sessionSettings) {
        this.#return(connection, lease);
        return;
      }
      // COM_RESET_CONNECTION also undid the session's time limits: set them again before anyone borrows it.
      const { statementTimeoutMs, lockTimeoutMs } = this.spillway.config;
      connection.query(mysqlSessionSettings(connection._isMariaDB === true, statementTimeoutMs, lockTimeoutMs), (settingError) => {
        if (settingError) lease.release(settingError);
        else this.#return(connection, lease);
      });
    });
  }

  /**
   * The server refused a write as read-only: this connection points at a reader (mysql2 destroys it
   * too). A burst of these means the writer moved: retire every connection, idle ones now and lent
   * ones at their return, so all reconnect through DNS.
   */
  #readOnly(connection: PooledConnection, error: Error): void {
    this.giveBack(connection, error);
    if (!this.#writerMoved.record()) return;
    this.#core.invalidateAll('writer-moved', error);
    for (const open of [...this.#connections]) this.#core.care.retire(open, 'recycled');
  }

  /**
   * mysql2's pooled-connection methods and the 'connection' event, around the dialect's connector.
   * release(), destroy() and promise() are set once per connection, so its shape never changes on the hot path.
   */
  #withPoolHooks(inner: Connector<PooledConnection>): Connector<PooledConnection> {
    return {
      target: inner.target,
      connect: async (context: ConnectContext) => {
        const connection = await inner.connect(context);
        connection[LEASE] = undefined;
        connection[FRESH] = true;
        connection.release = () => this.giveBack(connection, undefined);
        // mysql2's pooled destroy() closes the connection and frees its slot at once; a later release() does nothing.
        const destroy = connection.destroy;
        connection.destroy = () => {
          destroy.call(connection);
          this.giveBack(connection, new Error('connection destroyed by its borrower'));
        };
        connection.promise = (promiseImpl?: PromiseConstructor) => new (mysql2Promise().PromisePoolConnection)(connection, promiseImpl);
        this.#connections.add(connection);
        this.emit('connection', connection);
        return connection;
      },
      ping: (connection) => inner.ping(connection),
      needsReset: (connection) => inner.needsReset(connection),
      reset: (connection) => inner.reset(connection),
      close: (connection) => {
        this.#connections.delete(connection);
        return inner.close(connection);
      },
      isDisconnect: (error) => inner.isDisconnect(error),
    };
  }
}

/** Report a failure to mysql2's Query: its callback, or its 'error' event for a streamed query. */
function failOn(command: QueryCommand, error: Error): void {
  if (typeof command.onResult === 'function') command.onResult(error);
  else command.emit('error', error);
}

/** The promise pool class, registered by mysql-pool.ts (which imports this module): `promise()` builds one. */
let promisePoolClass: (new (pool: CallbackPool, promiseImpl?: PromiseConstructor) => unknown) | undefined;
export function registerPromisePool(poolClass: new (pool: CallbackPool, promiseImpl?: PromiseConstructor) => unknown): void {
  promisePoolClass = poolClass;
}
