import { EventEmitter } from 'node:events';
import type { Pool as Mysql2CallbackPool, PoolConnection as Mysql2CallbackPoolConnection } from 'mysql2';
import type { Pool as Mysql2PromisePool } from 'mysql2/promise';
import type { Database } from '../../database.js';
import { withCallback } from '../facade-settings.js';
import { CallbackPool, registerPromisePool } from './mysql-callback-pool.js';
import type { MysqlPoolConfig } from './mysql-pool-options.js';
import { type CoreConnection, mysql2Promise, type QueryCallback } from './mysql2-shapes.js';

type Callback<T> = (error: Error | null | undefined, value?: T) => void;

/** The events mysql2's promise pool re-emits from its callback pool. */
const POOL_EVENTS: readonly string[] = ['acquire', 'connection', 'enqueue', 'release'];

/**
 * Re-emit `events` of `source` on `target` while `target` has listeners for them (mysql2's
 * inheritEvents): the callback pool does no emitting work for a promise pool nobody listens to.
 */
function inheritEvents(source: EventEmitter, target: EventEmitter, events: readonly string[]): void {
  const forwarders = new Map<string | symbol, (...args: unknown[]) => void>();
  target.on('newListener', (event: string | symbol) => {
    if (!events.includes(event as string) || target.listenerCount(event) > 0) return;
    const forward = (...args: unknown[]): void => {
      target.emit(event, ...args);
    };
    forwarders.set(event, forward);
    source.on(event, forward);
  });
  target.on('removeListener', (event: string | symbol) => {
    const forward = forwarders.get(event);
    if (forward === undefined || target.listenerCount(event) > 0) return;
    source.removeListener(event, forward);
    forwarders.delete(event);
  });
}

/**
 * The pool `spillway/mysql`'s createPool returns: mysql2/promise's pool API on Spillway's pool.
 * `getConnection()` resolves with mysql2's own PromisePoolConnection; called with a callback (as
 * Kysely's MysqlDialect does) it hands out the callback connection instead. `pool.pool` is the same
 * pool's callback API and `pool.Promise` the promise implementation, as in mysql2.
 */
export class Pool extends EventEmitter {
  /** The callback API of this same pool (mysql2's `promisePool.pool`); its `promise()` comes back here. */
  readonly pool: CallbackPool;
  /** The promise implementation this pool's methods return (mysql2's `Promise` option; the global one by default). */
  readonly Promise: PromiseConstructor;
  /** The Spillway database underneath: status(), stats(), health(), events, HTTP endpoints. */
  readonly spillway: Database;
  /** The global Promise: results need no re-wrapping. */
  readonly #native: boolean;

  constructor(config: MysqlPoolConfig | string | CallbackPool, promiseImpl?: PromiseConstructor) {
    super();
    this.pool = config instanceof CallbackPool ? config : new CallbackPool(config);
    this.Promise = promiseImpl ?? this.pool.Promise;
    this.#native = this.Promise === Promise;
    this.spillway = this.pool.spillway;
    inheritEvents(this.pool, this, POOL_EVENTS);
  }

  /** Check out a connection; `release()` it (`destroy()` closes it instead). */
  getConnection(): Promise<unknown>;
  getConnection(callback: Callback<unknown>): void;
  getConnection(callback?: Callback<unknown>): Promise<unknown> | undefined {
    if (callback !== undefined) {
      this.pool.getConnection(callback);
      return undefined;
    }
    const PromisePoolConnection = mysql2Promise().PromisePoolConnection;
    return this.#settle(this.pool.checkout().then((connection) => new PromisePoolConnection(connection, this.Promise)));
  }

  /** Return a connection checked out with getConnection (as mysql2's pool.releaseConnection). */
  releaseConnection(connection: { release(): void }): void {
    connection.release();
  }

  /** Run one statement on a pooled connection: resolves `[rows, fields]`, as mysql2/promise does. */
  query(sql: unknown, values?: unknown): Promise<[unknown, unknown]> {
    return this.#run('query', sql, values);
  }

  /** Run one prepared statement on a pooled connection: resolves `[rows, fields]`. */
  execute(sql: unknown, values?: unknown): Promise<[unknown, unknown]> {
    return this.#run('execute', sql, values);
  }

  /**
   * Close the pool as mysql2 does: queued checkouts fail with `Pool is closed.`, every connection
   * (borrowed ones too) is closed, then it resolves.
   */
  end(): Promise<void>;
  end(callback: (error?: Error | null) => void): void;
  end(callback?: (error?: Error | null) => void): Promise<void> | undefined {
    const ended = new Promise<void>((resolve, reject) => this.pool.end((error) => (error ? reject(error) : resolve())));
    return withCallback(this.#settle(ended), callback, null);
  }

  escape(value: unknown): string {
    return this.pool.escape(value);
  }

  escapeId(value: unknown): string {
    return this.pool.escapeId(value);
  }

  format(sql: string, values?: unknown): string {
    return this.pool.format(sql, values);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.pool.closed) await this.end();
  }

  // ---- internals -------------------------------------------------------------------------------

  /** A native promise as this pool's `Promise`. */
  #settle<T>(promise: Promise<T>): Promise<T> {
    if (this.#native) return promise;
    return new this.Promise<T>((resolve, reject) => promise.then(resolve, reject));
  }

  #run(method: 'query' | 'execute', sql: unknown, values: unknown): Promise<[unknown, unknown]> {
    if (typeof values === 'function') throw new Error('Callback function is not available with promise clients.');
    const pool = this.pool;
    // One promise per statement when a connection is free; otherwise wait for one first.
    const lent = pool.lendNow();
    const result =
      lent !== undefined
        ? statement(pool, lent, method, sql, values)
        : pool.borrow((connection) => statement(pool, connection, method, sql, values));
    return this.#settle(result);
  }
}

/** One statement on a lent connection, as mysql2's pool runs it: the connection goes home (or is discarded) first. */
function statement(
  pool: CallbackPool,
  connection: CoreConnection,
  method: 'query' | 'execute',
  sql: unknown,
  values: unknown,
): Promise<[unknown, unknown]> {
  return new Promise<[unknown, unknown]>((resolve, reject) => {
    const done: QueryCallback = (error, rows, fields) => {
      pool.settle(connection, error);
      if (error) reject(error);
      else resolve([rows, fields]);
    };
    try {
      connection[method](sql, values, done);
    } catch (error) {
      done(error as Error);
    }
  });
}

registerPromisePool(Pool as unknown as new (pool: CallbackPool, promiseImpl?: PromiseConstructor) => unknown);

/**
 * What `spillway/mysql`'s createPool returns: typed as mysql2/promise's Pool, plus `spillway`, plus
 * the callback forms of getConnection and end that Kysely's MysqlDialect calls (mysql2's callback pool).
 */
export type SpillwayMysqlPool = Mysql2PromisePool & {
  readonly spillway: Database;
  getConnection(callback: (error: Error | null | undefined, connection: Mysql2CallbackPoolConnection) => void): void;
  end(callback: (error?: Error | null) => void): void;
};

/** What `spillway/mysql/callback`'s createPool returns: typed as mysql2's callback Pool, plus `spillway`. */
export type SpillwayMysqlCallbackPool = Mysql2CallbackPool & { readonly spillway: Database };

/**
 * A drop-in for mysql2/promise's `createPool`, on Spillway's pool. Change the import and keep every
 * call: `getConnection()`, `query`, `execute`, `end`, `release()`, the pool events, `pool.pool` and
 * `promise()`. Spillway's options ride along in the same config (`maxOverflow`, `prePing`,
 * `leakThresholdMs`, ...), each off until given, as in mysql2. `pool.spillway` is the Spillway
 * database underneath.
 *
 * @example
 * import { createPool } from 'spillway/mysql'; // was: import { createPool } from 'mysql2/promise'
 * const pool = createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10, maxOverflow: 5 });
 * const [rows] = await pool.query('SELECT * FROM users WHERE id = ?', [id]);
 */
export function createPool(config: MysqlPoolConfig | string): SpillwayMysqlPool {
  // Typed as mysql2's Pool so existing code and ORMs type-check unchanged; the runtime surface is
  // mysql2/promise's pool methods (mysql2's own typings also declare more than its pool has).
  return new Pool(config) as unknown as SpillwayMysqlPool;
}

/**
 * A drop-in for the plain `mysql2` entry's callback `createPool`, on Spillway's pool.
 *
 * @example
 * import { createPool } from 'spillway/mysql/callback'; // was: import { createPool } from 'mysql2'
 * const pool = createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10 });
 * pool.query('SELECT 1 AS one', (error, rows) => { ... });
 */
export function createCallbackPool(config: MysqlPoolConfig | string): SpillwayMysqlCallbackPool {
  return new CallbackPool(config) as unknown as SpillwayMysqlCallbackPool;
}
