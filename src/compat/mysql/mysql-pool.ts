import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { PoolConnection as Mysql2CallbackPoolConnection } from 'mysql2';
import type { Pool as Mysql2PromisePool } from 'mysql2/promise';
import { resolveConfig } from '../../config/resolve-config.js';
import { openDatabase } from '../../create-pool.js';
import type { Database } from '../../database.js';
import { createMysqlDialect, type MysqlConnection } from '../../dialect/mysql/mysql-dialect.js';
import { PoolTimeoutError, ReleasedTwiceError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import type { Lease } from '../../pool/lease.js';
import type { ConnectionPool } from '../../pool/pool.js';
import { withCallback } from '../facade-settings.js';
import { type MysqlPoolConfig, type MysqlPoolPlan, planMysqlPool } from './mysql-pool-options.js';

/** The longest timer Node accepts. */
const FOREVER_MS = 2_147_483_647;

type Callback<T> = (error: Error | null | undefined, value?: T) => void;
type QueryCallback = (error: Error | null, rows?: unknown, fields?: unknown) => void;
/** The lease of a lent connection, on the connection itself (undefined while it is in the pool). */
const LEASE = Symbol('spillway.lease');

/** mysql2's callback connection, as the dialect hands it out, with the methods a borrower calls. */
type CoreConnection = MysqlConnection & {
  [LEASE]?: Lease<CoreConnection> | undefined;
  release?: () => void;
  execute(sql: unknown, values: unknown, callback: QueryCallback): unknown;
  query(sql: unknown, values: unknown, callback: QueryCallback): unknown;
  config?: { namedPlaceholders?: boolean };
};
interface Mysql2PromiseModule {
  PromisePoolConnection: new (connection: CoreConnection, promise?: PromiseConstructor) => unknown;
  escape(value: unknown): string;
  escapeId(value: unknown): string;
  format(sql: string, values?: unknown): string;
}

const requireCjs = createRequire(import.meta.url);
let mysql2Promise: Mysql2PromiseModule | undefined;
/** mysql2's own promise wrappers, loaded on first use so importing spillway/mysql loads nothing. */
function mysql2(): Mysql2PromiseModule {
  mysql2Promise ??= requireCjs('mysql2/promise') as Mysql2PromiseModule;
  return mysql2Promise;
}

/**
 * The pool `spillway/mysql`'s createPool returns: mysql2/promise's pool API on Spillway's pool.
 * `getConnection()` resolves with mysql2's own PromisePoolConnection; called with a callback (as
 * Kysely's MysqlDialect does) it hands out the callback connection instead.
 */
export class Pool extends EventEmitter {
  /** The Spillway database underneath: status(), stats(), health(), events, HTTP endpoints. */
  readonly spillway: Database;
  readonly #core: ConnectionPool<CoreConnection>;
  readonly #plan: MysqlPoolPlan;
  readonly #isDisconnect: (error: unknown) => boolean;
  #started = false;

  constructor(config: MysqlPoolConfig | string) {
    super();
    this.#plan = planMysqlPool(config);
    const resolved = resolveConfig(this.#plan.options);
    const dialect = createMysqlDialect(resolved, { connectionOptions: this.#plan.connectionOptions });
    this.#isDisconnect = (error) => dialect.connector.isDisconnect(error) || (error as { fatal?: boolean } | null)?.fatal === true;
    const connector = this.#withPoolEvents(dialect.connector as Connector<CoreConnection>);
    this.spillway = openDatabase(resolved, { ...dialect, connector } as typeof dialect);
    this.#core = this.spillway.pool as ConnectionPool<CoreConnection>;
  }

  /** Check out a connection; `release()` it once (`destroy()` closes it instead). */
  getConnection(): Promise<unknown>;
  getConnection(callback: Callback<unknown>): void;
  getConnection(callback?: Callback<unknown>): Promise<unknown> | undefined {
    const checkout = this.#acquire().then((lease) => this.#handOut(lease));
    if (callback !== undefined) return withCallback(checkout, callback, null);
    return checkout.then((connection) => new (mysql2().PromisePoolConnection)(connection));
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
   * Close the pool: waiting checkouts fail with POOL_CLOSED, borrowed connections are waited for,
   * then every connection is closed.
   */
  end(): Promise<void>;
  end(callback: (error?: Error | null) => void): void;
  end(callback?: (error?: Error | null) => void): Promise<void> | undefined {
    return withCallback(this.#core.close({ graceMs: FOREVER_MS }), callback, null);
  }

  escape(value: unknown): string {
    return mysql2().escape(value);
  }

  escapeId(value: unknown): string {
    return mysql2().escapeId(value);
  }

  format(sql: string, values?: unknown): string {
    return mysql2().format(sql, values);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#core.closed) await this.end();
  }

  // ---- internals -------------------------------------------------------------------------------

  #acquire(): Promise<Lease<CoreConnection>> {
    // Started on first use: creating a mysql2 pool opens nothing.
    if (!this.#started) {
      this.#started = true;
      this.#core.start();
    }
    const status = this.#core.status();
    if (status.checkedIn === 0 && status.total >= status.max) {
      // mysql2's waitForConnections: false and queueLimit fail a checkout at once instead of queueing.
      const { waitForConnections, queueLimit } = this.#plan;
      if (!waitForConnections || (queueLimit > 0 && status.waiting >= queueLimit)) {
        return Promise.reject(new PoolTimeoutError(this.#core.name, status, 0));
      }
      this.emit('enqueue');
    }
    return this.#core.acquire();
  }

  #handOut(lease: Lease<CoreConnection>): CoreConnection {
    const connection = this.#lend(lease);
    this.emit('acquire', connection);
    return connection;
  }

  #lend(lease: Lease<CoreConnection>): CoreConnection {
    const connection = lease.connection;
    connection[LEASE] = lease;
    return connection;
  }

  /** Return a lent connection; an error that broke it (or destroy()) closes it instead. */
  #giveBack(connection: CoreConnection, error: unknown): void {
    const lease = connection[LEASE];
    if (lease === undefined) throw new ReleasedTwiceError(this.#core.name);
    connection[LEASE] = undefined;
    this.emit('release', connection);
    lease.release(error);
  }

  #run(method: 'query' | 'execute', sql: unknown, values: unknown): Promise<[unknown, unknown]> {
    if (typeof values === 'function') return Promise.reject(new TypeError('Callback function is not available with promise clients.'));
    return this.#acquire().then(
      (lease) =>
        new Promise<[unknown, unknown]>((resolve, reject) => {
          const connection = this.#handOut(lease);
          const done: QueryCallback = (error, rows, fields) => {
            // A SQL error leaves the connection usable; only a broken one is closed.
            this.#giveBack(connection, error && this.#isDisconnect(error) ? error : undefined);
            if (error) reject(error);
            else resolve([rows, fields]);
          };
          try {
            connection[method](sql, values, done);
          } catch (error) {
            done(error as Error);
          }
        }),
    );
  }

  /**
   * mysql2's pooled-connection methods and 'connection' event, around the dialect's connector.
   * release() and destroy() are set once per connection, so its shape never changes on the hot path.
   */
  #withPoolEvents(inner: Connector<CoreConnection>): Connector<CoreConnection> {
    return {
      target: inner.target,
      connect: async (context: ConnectContext) => {
        const connection = await inner.connect(context);
        connection[LEASE] = undefined;
        // mysql2's PoolConnection.release(): a second call (no lease) throws RELEASED_TWICE.
        connection.release = () => this.#giveBack(connection, undefined);
        // mysql2's pooled destroy() closes the connection and frees its slot; so does this one.
        const destroy = connection.destroy;
        connection.destroy = () => {
          destroy.call(connection);
          if (connection[LEASE] !== undefined) this.#giveBack(connection, new Error('connection destroyed by its borrower'));
        };
        this.emit('connection', connection);
        return connection;
      },
      ping: (connection) => inner.ping(connection),
      needsReset: (connection) => inner.needsReset(connection),
      reset: (connection) => inner.reset(connection),
      close: (connection) => inner.close(connection),
      isDisconnect: (error) => inner.isDisconnect(error),
    };
  }
}

/**
 * What `spillway/mysql`'s createPool returns: typed as mysql2/promise's Pool, plus `spillway`, plus
 * the callback forms of getConnection and end that Kysely's MysqlDialect calls (mysql2's callback pool).
 */
export type SpillwayMysqlPool = Mysql2PromisePool & {
  readonly spillway: Database;
  getConnection(callback: (error: Error | null | undefined, connection: Mysql2CallbackPoolConnection) => void): void;
  end(callback: (error?: Error | null) => void): void;
};

/**
 * A drop-in for mysql2/promise's `createPool`, on Spillway's pool. Change the import and keep every
 * call: `getConnection()`, `query`, `execute`, `end`, `release()`, the pool events. Spillway's
 * options ride along in the same config (`maxOverflow`, `prePing`, `leakThresholdMs`, ...), each
 * off until given, as in mysql2. `pool.spillway` is the Spillway database underneath.
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
