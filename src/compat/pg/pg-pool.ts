import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type {
  Client,
  ClientConfig,
  PoolOptions as PgPoolOptions,
  PoolClient,
  QueryArrayConfig,
  QueryArrayResult,
  QueryConfig,
  QueryConfigValues,
  QueryResult,
  QueryResultRow,
  Submittable,
} from 'pg';
import { resolveConfig } from '../../config/resolve-config.js';
import { openDatabase } from '../../create-pool.js';
import type { Database } from '../../database.js';
import { createPostgresDialect } from '../../dialect/postgres/postgres-dialect.js';
import { SpillwayError } from '../../errors.js';
import type { ConnectContext, Connector } from '../../pool/connector.js';
import type { Lease } from '../../pool/lease.js';
import type { ConnectionPool } from '../../pool/pool.js';
import { type PgPoolConfig, planPgPool, type SpillwayExtras } from './pg-pool-options.js';

/** The longest timer Node accepts: pg.Pool's end() waits for every client, however long. */
const FOREVER_MS = 2_147_483_647;

type Callback<T> = (err: Error | undefined, result?: T) => void;
// biome-ignore lint/suspicious/noExplicitAny: pg.Pool's own signature for done(), kept for drop-in typing
type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: any) => void) => void;
type Verify = (client: PoolClient, done: (err?: Error) => void) => void;
/** The parts of a Submittable the client drives: wrapped to know when the client is free again. */
interface SubmittableHooks {
  handleReadyForQuery(...args: unknown[]): unknown;
  handleError(error: unknown, ...args: unknown[]): unknown;
}
/** pg.Client's socket ref/unref (untyped in @types/pg), for allowExitOnIdle. */
interface Referable {
  ref?(): void;
  unref?(): void;
}

function noop(): void {}

/**
 * A drop-in replacement for node-postgres' `pg.Pool`, on Spillway's pool. Change the import and
 * keep every call: `connect()` hands out real `pg.Client`s with `release(err?)`, `query()` takes
 * text, config objects and submittables, the events, counters and `end()` behave as pg.Pool's.
 * Spillway's options ride along in the same config (`maxOverflow`, `prePing`, `leakThresholdMs`,
 * `circuit`, ...); each is off, as in pg.Pool, until given. `pool.spillway` is the underlying
 * Spillway database, for `status()`, `stats()`, `health()` and the HTTP endpoints.
 *
 * @example
 * import { Pool } from 'spillway/pg'; // was: import { Pool } from 'pg'
 * const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20, maxOverflow: 10 });
 * const { rows } = await pool.query('SELECT * FROM users WHERE id = $1', [id]);
 */
export class Pool extends EventEmitter {
  /** pg.Pool's options with its defaults filled in; the password is not enumerable. */
  readonly options: PgPoolOptions & SpillwayExtras;
  /** The Spillway database underneath: status(), stats(), health(), events, HTTP endpoints. */
  readonly spillway: Database;
  /** True once end() was called. */
  ending = false;
  /** True once end() has closed every connection. */
  ended = false;
  readonly #core: ConnectionPool<Client>;
  readonly #isDisconnect: (error: unknown) => boolean;
  readonly #log: (...messages: unknown[]) => void;
  readonly #allowExitOnIdle: boolean;
  readonly #maxLifetimeMs: number;
  /** Clients lent right now: pg.Pool reports errors of idle clients only, and counts expired lent ones. */
  readonly #lent = new Set<Client>();
  /** Clients that completed their connect hooks, with when: 'remove' is emitted for these only. */
  readonly #bornAt = new WeakMap<Client, number>();
  #started = false;

  constructor(config?: PgPoolConfig, ClientClass?: new (config: ClientConfig) => Client) {
    super();
    const plan = planPgPool(config ?? {}, ClientClass);
    this.options = plan.poolOptions as unknown as PgPoolOptions & SpillwayExtras;
    this.#log = typeof config?.log === 'function' ? config.log : noop;
    this.#allowExitOnIdle = config?.allowExitOnIdle === true;
    this.#maxLifetimeMs = (config?.maxLifetimeSeconds || 0) * 1000;
    const resolved = resolveConfig(plan.options);
    const dialect = createPostgresDialect(resolved, { Client: plan.Client, clientConfig: plan.clientConfig });
    this.#isDisconnect = dialect.connector.isDisconnect;
    const connector = this.#withPoolHooks(dialect.connector, config?.onConnect, config?.verify as Verify | undefined);
    this.spillway = openDatabase(resolved, { ...dialect, connector });
    this.#core = this.spillway.pool as ConnectionPool<Client>;
  }

  /** Clients open or opening (pg.Pool's totalCount). */
  get totalCount(): number {
    const status = this.#core.status();
    return status.total - status.closing;
  }

  /** Clients idle in the pool. */
  get idleCount(): number {
    return this.#core.status().checkedIn;
  }

  /** Callers waiting for a client, beyond those a connection being opened will serve (as pg.Pool counts). */
  get waitingCount(): number {
    const status = this.#core.status();
    return Math.max(0, status.waiting - status.opening);
  }

  /** Lent clients past maxLifetimeSeconds: closed when released. */
  get expiredCount(): number {
    if (this.#maxLifetimeMs === 0) return 0;
    const now = performance.now();
    let expired = 0;
    for (const client of this.#lent) if (now - (this.#bornAt.get(client) ?? now) >= this.#maxLifetimeMs) expired++;
    return expired;
  }

  /**
   * Check out a client; call `client.release()` exactly once (`release(err)` or `release(true)`
   * closes it instead). Waits as long as it takes unless connectionTimeoutMillis is set.
   */
  connect(): Promise<PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PoolClient> | undefined {
    const promise = this.#acquire().then((lease) => this.#handOut(lease));
    if (callback === undefined) return promise;
    promise.then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, noop),
    );
    return undefined;
  }

  /**
   * Run one query on a pooled client and return it. Takes what `client.query` takes: text and
   * values, a config object, or a submittable (a cursor, a stream), which is returned and whose
   * client goes back to the pool when it completes.
   */
  query<T extends Submittable>(queryStream: T): T;
  query<R extends unknown[] = unknown[], I = unknown[]>(
    queryConfig: QueryArrayConfig<I>,
    values?: QueryConfigValues<I>,
  ): Promise<QueryArrayResult<R>>;
  // biome-ignore lint/suspicious/noExplicitAny: pg.Pool's own default row type, kept for drop-in typing
  query<R extends QueryResultRow = any, I = unknown[]>(queryConfig: QueryConfig<I>): Promise<QueryResult<R>>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  query<R extends QueryResultRow = any, I = unknown[]>(
    queryTextOrConfig: string | QueryConfig<I>,
    values?: QueryConfigValues<I>,
  ): Promise<QueryResult<R>>;
  query<R extends unknown[] = unknown[], I = unknown[]>(
    queryConfig: QueryArrayConfig<I>,
    callback: (err: Error, result: QueryArrayResult<R>) => void,
  ): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  query<R extends QueryResultRow = any, I = unknown[]>(
    queryTextOrConfig: string | QueryConfig<I>,
    callback: (err: Error, result: QueryResult<R>) => void,
  ): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  query<R extends QueryResultRow = any, I = unknown[]>(
    queryText: string,
    values: QueryConfigValues<I>,
    callback: (err: Error, result: QueryResult<R>) => void,
  ): void;
  query(config: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof config === 'function') {
      const error = new TypeError('Passing a function as the first parameter to pool.query is not supported');
      setImmediate(() => (config as Callback<never>)(error));
      return Promise.reject(error);
    }
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (config !== null && typeof config === 'object' && typeof (config as Submittable).submit === 'function') {
      return this.#submit(config as Submittable & SubmittableHooks, values, callback);
    }
    const promise = this.#query(config, values);
    if (typeof callback !== 'function') return promise;
    promise.then(
      (result) => (callback as Callback<QueryResult>)(undefined, result),
      (error: Error) => (callback as Callback<QueryResult>)(error),
    );
    return undefined;
  }

  /**
   * Stop taking checkouts, wait for every lent client to be released (as pg.Pool does, however
   * long), then close them all. A second call rejects.
   */
  end(): Promise<void>;
  end(callback: (err?: Error) => void): void;
  end(callback?: (err?: Error) => void): Promise<void> | undefined {
    let promise: Promise<void>;
    if (this.ending) {
      promise = Promise.reject(new SpillwayError('POOL_CLOSED', `Pool "${this.spillway.name}": called end on pool more than once`));
    } else {
      this.ending = true;
      this.#log('ending');
      promise = this.#core.close({ graceMs: FOREVER_MS }).then(() => {
        this.ended = true;
      });
    }
    if (callback === undefined) return promise;
    promise.then(() => callback(), callback);
    return undefined;
  }

  // ---- internals -------------------------------------------------------------------------------

  #acquire(): Promise<Lease<Client>> {
    // Started on first use: constructing a pg.Pool opens nothing, even with `min`.
    if (!this.#started) {
      this.#started = true;
      this.#core.start();
    }
    return this.#core.acquire();
  }

  #lend(lease: Lease<Client>): Client {
    const client = lease.connection;
    this.#lent.add(client);
    if (this.#allowExitOnIdle) (client as Referable).ref?.();
    this.emit('acquire', client);
    return client;
  }

  /** Return a lent client; an error that broke the connection (or `release(true)`) closes it. */
  #giveBack(lease: Lease<Client>, client: Client, error: unknown): void {
    if (lease.released) {
      lease.release(error); // RELEASED_TWICE (or nothing, when the pool reclaimed a leak)
      return;
    }
    this.#lent.delete(client);
    this.emit('release', error, client);
    if (this.#allowExitOnIdle) (client as Referable).unref?.();
    lease.release(error);
  }

  #handOut(lease: Lease<Client>): PoolClient {
    const client = this.#lend(lease) as PoolClient;
    // A new function per checkout, as pg.Pool does: a stale reference throws RELEASED_TWICE.
    client.release = (error?: Error | boolean) => this.#giveBack(lease, client, error ? error : undefined);
    return client;
  }

  /** pool.query's hot path: pg's callback form, as pg-pool uses it, saves the two promises of its promise form. */
  #query(config: unknown, values: unknown): Promise<QueryResult> {
    return this.#acquire().then(
      (lease) =>
        new Promise<QueryResult>((resolve, reject) => {
          const client = this.#lend(lease);
          const done = (error: Error | null | undefined, result?: QueryResult): void => {
            // A SQL error leaves the connection usable; only a broken one is closed (pg.Pool closes both).
            this.#giveBack(lease, client, error && this.#isDisconnect(error) ? error : undefined);
            if (error) reject(error);
            else resolve(result as QueryResult);
          };
          try {
            (client.query as unknown as (config: unknown, values: unknown, callback: typeof done) => void).call(
              client,
              config,
              values,
              done,
            );
          } catch (error) {
            done(error as Error); // pg throws synchronously for a null query
          }
        }),
    );
  }

  #submit<T extends Submittable & SubmittableHooks>(submittable: T, values: unknown, callback: unknown): T {
    this.#acquire().then(
      (lease) => {
        const client = this.#lend(lease);
        const { handleReadyForQuery, handleError } = submittable;
        let finished = false;
        const finish = (error: unknown): void => {
          if (finished) return;
          finished = true;
          submittable.handleReadyForQuery = handleReadyForQuery;
          submittable.handleError = handleError;
          this.#giveBack(lease, client, error !== undefined && this.#isDisconnect(error) ? error : undefined);
        };
        // The client is done with a submittable when it reports ready-for-query or an error:
        // that is when its connection can go back, however long a cursor stays open before.
        submittable.handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
          try {
            return handleReadyForQuery.apply(this, args);
          } finally {
            finish(undefined);
          }
        };
        submittable.handleError = function (this: unknown, error: unknown, ...args: unknown[]) {
          try {
            return handleError.call(this, error, ...args);
          } finally {
            finish(error);
          }
        };
        // client.query(submittable, values?, callback?) as pg-pool passes it; pg picks what applies.
        const run = client.query as unknown as (query: Submittable, values?: unknown, callback?: unknown) => void;
        try {
          run.call(client, submittable, values, callback);
        } catch (error) {
          finish(error);
          throw error;
        }
      },
      (error: unknown) => {
        submittable.handleError(error);
      },
    );
    return submittable;
  }

  /**
   * pg.Pool's connection hooks around the dialect's connector: `onConnect`, the 'connect' event,
   * `verify`, 'error' for idle clients and 'remove' when a client is closed.
   */
  #withPoolHooks(
    inner: Connector<Client>,
    onConnect: ((client: Client) => unknown) | undefined,
    verify: Verify | undefined,
  ): Connector<Client> {
    return {
      target: inner.target,
      connect: async (context: ConnectContext): Promise<Client> => {
        this.#log('connecting new client');
        let client: Client | undefined;
        let reported = false;
        const onBroken = (error: unknown): void => {
          // pg.Pool emits 'error' for idle clients only (a lent client's error reaches its holder),
          // once per client, and never crashes a pool nobody listens to.
          if (client !== undefined && !reported && !this.#lent.has(client) && this.listenerCount('error') > 0) {
            reported = true;
            if (error !== null && typeof error === 'object') (error as { client?: Client }).client = client;
            this.emit('error', error, client);
          }
          context.onBroken(error);
        };
        client = await inner.connect({ timeoutMs: context.timeoutMs, signal: context.signal, onBroken });
        try {
          if (onConnect !== undefined) await onConnect(client);
        } catch (error) {
          this.#log('onConnect hook failed', error);
          await inner.close(client);
          throw error;
        }
        this.#log('new client connected');
        this.#bornAt.set(client, performance.now());
        this.emit('connect', client);
        if (verify !== undefined) {
          const verifying = client as PoolClient;
          await new Promise<void>((resolve, reject) => verify(verifying, (error) => (error ? reject(error) : resolve()))).catch(
            async (error: unknown) => {
              await this.#close(inner, verifying);
              throw error;
            },
          );
        }
        if (this.#allowExitOnIdle) (client as Referable).unref?.();
        return client;
      },
      ping: (client) => inner.ping(client),
      needsReset: (client) => inner.needsReset(client),
      reset: (client) => inner.reset(client),
      close: (client) => this.#close(inner, client),
      isDisconnect: (error) => inner.isDisconnect(error),
    };
  }

  async #close(inner: Connector<Client>, client: Client): Promise<void> {
    await inner.close(client);
    if (this.#bornAt.has(client)) {
      this.#bornAt.delete(client);
      this.#log('client removed');
      this.emit('remove', client);
    }
  }
}
