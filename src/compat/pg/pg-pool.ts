import { EventEmitter } from 'node:events';
import pg, {
  type Client,
  type ClientConfig,
  type PoolOptions as PgPoolOptions,
  type PoolClient,
  type QueryArrayConfig,
  type QueryArrayResult,
  type QueryConfig,
  type QueryConfigValues,
  type QueryResult,
  type QueryResultRow,
  type Submittable,
} from 'pg';
import { resolveConfig } from '../../config/resolve-config.js';
import { openDatabase } from '../../create-pool.js';
import type { Database } from '../../database.js';
import { createPostgresDialect } from '../../dialect/postgres/postgres-dialect.js';
import { isPostgresDisconnect } from '../../dialect/postgres/postgres-errors.js';
import type { Lease } from '../../pool/lease.js';
import type { AcquireOptions, ConnectionPool } from '../../pool/pool.js';
import { createPgClientConnector } from './pg-client-connector.js';
import { PgClientLifecycle } from './pg-client-lifecycle.js';
import { asPgPoolError, endedTwiceError, PG_POOL_MESSAGES, poolEndedError, releasedTwiceError } from './pg-pool-errors.js';
import { FOREVER_MS, type PgPoolConfig, type PgPoolPlan, planPgPool, type SpillwayExtras } from './pg-pool-options.js';
import { canWork, countUse, type PooledClientFields, type PooledClientState, stateOf } from './pg-pooled-client.js';
import { submitOnPool } from './pg-submittable.js';

type Callback<T> = (err: Error | undefined, result?: T) => void;
// biome-ignore lint/suspicious/noExplicitAny: pg.Pool's own signature for done(), kept for drop-in typing
type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: any) => void) => void;
type Verify = (client: PoolClient, done: (err?: Error) => void) => void;
type PromiseClass = new <T>(executor: (resolve: (value: T) => void, reject: (reason: unknown) => void) => void) => Promise<T>;

/** A caller for whom pg.Pool would open a new client waits on that connect alone, not on a checkout timer. */
const NO_DEADLINE: AcquireOptions = Object.freeze({ timeoutMs: 0 });
/**
 * The core's reason to discard a released client that cannot work (ended by its holder, connection
 * gone). Never thrown; not a disconnect, so the other clients are not suspected.
 */
const UNUSABLE = new Error('released client cannot take queries');

function noop(): void {}

/**
 * A drop-in replacement for node-postgres' `pg.Pool` (pg-pool 3.14), on Spillway's pool. Change the
 * import and keep every call: `connect()` hands out real `pg.Client`s with `release(err?)`, `query()`
 * takes what `client.query` takes, and errors, events, counters, timers and `end()` behave as
 * pg.Pool's. Two differences remain, both where pg.Pool is unsafe (docs/migration.md): a client's
 * error never crashes the process, and nothing handed to the pool is left pending forever (callers
 * queued at `end()` are served; `query(submittable)` returns its client). Spillway's options ride
 * along in the same config (`maxOverflow`, `prePing`, `leakThresholdMs`, `circuit`, ...); each is off
 * until given. `pool.spillway` is the Spillway database underneath, for `status()`, `stats()`,
 * `health()` and the HTTP endpoints.
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
  /** True once end() has removed every client (their sockets may still be closing, as in pg.Pool). */
  ended = false;
  readonly #core: ConnectionPool<Client>;
  readonly #pg: PgPoolPlan['pg'];
  readonly #verify: Verify | undefined;
  readonly #logger: ((...messages: unknown[]) => void) | undefined;
  readonly #Promise: PromiseClass | undefined;
  #started = false;
  /** Callers waiting for a checkout to settle: end() closes the core once none is left. */
  #pending = 0;
  readonly #lives: PgClientLifecycle;
  #closing = false;
  #onEnded: (() => void) | undefined = undefined;

  constructor(config?: PgPoolConfig, ClientClass?: new (config: ClientConfig) => Client) {
    super();
    const plan = planPgPool(config ?? {}, ClientClass);
    this.options = plan.poolOptions as unknown as PgPoolOptions & SpillwayExtras;
    this.#pg = plan.pg;
    this.#verify = config?.verify as Verify | undefined;
    this.#logger = typeof config?.log === 'function' ? config.log : undefined;
    const CustomPromise = (config as { Promise?: PromiseClass } | undefined)?.Promise;
    this.#Promise = CustomPromise !== undefined && (CustomPromise as unknown) !== Promise ? CustomPromise : undefined;
    const resolved = resolveConfig(plan.options);
    const dialect = createPostgresDialect(resolved);
    this.#lives = new PgClientLifecycle(
      {
        totalCount: () => this.totalCount,
        retire: (client, reason) => this.#core.care.retire(client, reason),
        emit: (event, ...args) => this.emit(event, ...args),
        hasErrorListener: () => this.listenerCount('error') > 0,
        log: (message, detail) => this.#log(message, detail),
        logPulse: () => this.#logPulse(),
        left: () => this.#checkEnded(),
      },
      plan.pg,
    );
    const connector = createPgClientConnector(
      {
        Client: plan.Client ?? (pg.Client as unknown as new (config: ClientConfig) => Client),
        clientConfig: plan.clientConfig,
        connectionTimeoutMillis: plan.pg.connectionTimeoutMillis,
        onConnect: config?.onConnect as ((client: Client) => unknown) | undefined,
        log: (message, detail) => this.#log(message, detail),
        pingTimeoutMs: plan.pg.pingTimeoutMs,
        target: dialect.connector.target,
        isDisconnect: resolved.prePing || plan.circuitBreaker ? isPostgresDisconnect : () => false,
      },
      this.#lives,
    );
    this.spillway = openDatabase(
      resolved,
      { ...dialect, connector, routing: { pool: plan.core } },
      { circuitBreaker: plan.circuitBreaker },
    );
    this.#core = this.spillway.pool as ConnectionPool<Client>;
  }

  /** Clients open or opening (pg.Pool's totalCount): exact right after any call that changes it. */
  get totalCount(): number {
    const status = this.#core.status();
    return status.total - status.closing;
  }

  /** Clients idle in the pool. */
  get idleCount(): number {
    return this.#core.status().checkedIn;
  }

  /** Callers waiting for a client, beyond those a client being opened will serve (as pg.Pool counts). */
  get waitingCount(): number {
    const status = this.#core.status();
    return Math.max(0, status.waiting - status.opening);
  }

  /** Lent clients past maxLifetimeSeconds: removed when released. */
  get expiredCount(): number {
    return this.#lives.expiredCount;
  }

  /**
   * Check out a client; call `client.release()` exactly once (`release(err)` or `release(true)`
   * removes it instead). Waits as long as it takes unless connectionTimeoutMillis is set.
   */
  connect(): Promise<PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PoolClient> | undefined {
    if (this.ending) {
      const error = poolEndedError();
      if (callback === undefined) return this.#promise(Promise.reject(error));
      callback(error, undefined, noop);
      return undefined;
    }
    const promise = this.#checkout();
    if (callback === undefined) return this.#promise(promise);
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
      const error = new TypeError(PG_POOL_MESSAGES.functionAsQuery);
      setImmediate(() => (config as Callback<never>)(error));
      return undefined;
    }
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (config !== null && typeof config === 'object' && typeof (config as Submittable).submit === 'function') {
      return submitOnPool(config as Submittable, values, callback, {
        ended: this.ending,
        checkout: () => this.#checkout(),
        log: (message) => this.#log(message),
      });
    }
    if (this.ending) {
      const error = poolEndedError();
      if (typeof callback !== 'function') return this.#promise(Promise.reject(error));
      (callback as Callback<QueryResult>)(error);
      return undefined;
    }
    const promise = this.#query(config, values);
    if (typeof callback !== 'function') return this.#promise(promise);
    promise.then(
      (result) => (callback as Callback<QueryResult>)(undefined, result),
      (error: Error) => (callback as Callback<QueryResult>)(error),
    );
    return undefined;
  }

  /**
   * Take no new work, let what was asked before finish (every query issued and every checkout
   * requested before the call, including callers still waiting for a client), wait for every lent
   * client to be released however long it takes, as pg.Pool does, then close them all. Calls made
   * after `end()` are refused with pg-pool's error, a second `end()` too.
   */
  end(): Promise<void>;
  end(callback: (err?: Error) => void): void;
  end(callback?: (err?: Error) => void): Promise<void> | undefined {
    this.#log('ending');
    if (this.ending) {
      const error = endedTwiceError();
      if (callback === undefined) return this.#promise(Promise.reject(error));
      callback(error);
      return undefined;
    }
    this.ending = true;
    const ended = new Promise<void>((resolve) => {
      this.#onEnded = resolve;
    });
    if (this.#pending === 0) this.#closeCore();
    if (callback === undefined) return this.#promise(ended);
    ended.then(() => callback());
    return undefined;
  }

  // ---- checkout and release --------------------------------------------------------------------

  #acquire(): Promise<Lease<Client>> {
    // Started on first use: constructing a pg.Pool opens nothing, even with `min`.
    if (!this.#started) {
      this.#started = true;
      this.#core.start();
    }
    this.#pending++;
    if (this.#pg.connectionTimeoutMillis > 0 && this.#opensNewClient()) return this.#core.acquire(NO_DEADLINE);
    return this.#core.acquire();
  }

  /**
   * pg.Pool opens a client for a caller when it holds no idle one and is not full; that caller is
   * bounded by the connect's own timeout (its error is pg-pool's connect error), the others by
   * the checkout timer ('timeout exceeded when trying to connect').
   */
  #opensNewClient(): boolean {
    const status = this.#core.status();
    return status.checkedIn === 0 && status.total - status.closing < status.max;
  }

  #checkout(): Promise<PoolClient> {
    return this.#acquire().then(
      (lease) => this.#handOut(lease),
      (error: unknown) => this.#checkoutFailed(error),
    );
  }

  #checkoutFailed(error: unknown): never {
    this.#settled();
    throw asPgPoolError(error);
  }

  /** A checkout settled: once none is left after end(), the core closes. */
  #settled(): void {
    if (--this.#pending === 0 && this.ending) this.#closeCore();
  }

  /** Lend the client: 'acquire', a fresh release function, and `verify` at its first checkout. */
  #handOut(lease: Lease<Client>): PoolClient | Promise<PoolClient> {
    this.#settled();
    const client = lease.connection as PoolClient;
    const state = stateOf(client);
    state.lease = lease;
    state.idleArmed = false;
    if (this.#pg.allowExitOnIdle) (client as PooledClientFields).ref?.();
    this.emit('acquire', client);
    // A new function per checkout, as pg.Pool does: a stale reference throws pg-pool's error.
    client.release = (error?: Error | boolean) => this.#release(lease, client, state, error);
    if (this.#verify === undefined || state.verified) return client;
    state.verified = true;
    const verify = this.#verify;
    return new Promise<PoolClient>((resolve, reject) => {
      verify(client, (error) => {
        if (!error) return resolve(client);
        client.release(error);
        reject(error);
      });
    });
  }

  /**
   * pg-pool's release: count the use, emit 'release' with what it was given, then remove the client
   * when released with an error, when it cannot work, when expended (maxUses) or expired
   * (maxLifetimeSeconds), and otherwise keep it idle with its idle timer armed. Removal is
   * synchronous: totalCount drops before release() returns.
   */
  #release(lease: Lease<Client>, client: PoolClient, state: PooledClientState, error: unknown): void {
    if (state.lease !== lease) throw releasedTwiceError();
    state.lease = undefined;
    const uses = countUse(client);
    this.emit('release', error, client);
    const expended = uses >= this.#pg.maxUses;
    const broken = Boolean(error) || !canWork(client);
    if (broken || expended) {
      if (expended) this.#log('remove expended client');
      if (broken) lease.release(error || UNUSABLE);
      else this.#retire(lease, client);
      return;
    }
    if (state.expired) {
      this.#log('remove expired client');
      this.#retire(lease, client);
      return;
    }
    this.#lives.armIdle(client, state);
    if (this.#pg.allowExitOnIdle) (client as PooledClientFields).unref?.();
    lease.release();
    this.#logPulse();
  }

  /** Close a lent client as it comes back (counted as recycled). */
  #retire(lease: Lease<Client>, client: Client): void {
    this.#core.care.retire(client, 'recycled');
    lease.release();
  }

  /** pool.query's path: pg's callback form, as pg-pool uses it; any error removes the client, as in pg-pool. */
  #query(config: unknown, values: unknown): Promise<QueryResult> {
    return this.#acquire().then(
      (lease) => {
        const client = this.#handOut(lease);
        if (client instanceof Promise) return client.then((verified) => this.#run(verified, config, values));
        return this.#run(client, config, values);
      },
      (error: unknown) => this.#checkoutFailed(error),
    );
  }

  #run(client: PoolClient, config: unknown, values: unknown): Promise<QueryResult> {
    return new Promise<QueryResult>((resolve, reject) => {
      this.#log('dispatching query');
      const done = (error: Error | null | undefined, result?: QueryResult): void => {
        this.#log('query dispatched');
        // pg-pool passes pg's own `err` on (null on success): the 'release' event sees it as is.
        (client.release as (error: unknown) => void)(error);
        if (error) reject(error);
        else resolve(result as QueryResult);
      };
      try {
        (client.query as unknown as (config: unknown, values: unknown, callback: typeof done) => void).call(client, config, values, done);
      } catch (error) {
        // pg throws synchronously for a null query.
        client.release(error as Error);
        reject(error);
      }
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Close the core once nothing asked before end() waits; its idle clients leave the count at once. */
  #closeCore(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#log('pulse queue on ending');
    // Settles once every socket is closed; the pool has ended before that, as pg.Pool's has.
    void this.#core.close({ graceMs: FOREVER_MS });
    this.#checkEnded();
  }

  /** pg.Pool ends when its last client leaves the count (before its socket has closed): ended, end() resolves. */
  #checkEnded(): void {
    if (!this.#closing || this.ended || this.totalCount !== 0) return;
    this.ended = true;
    this.#onEnded?.();
  }

  /**
   * pg.Pool's `log` option: called with pg-pool's messages (and its second argument where pg-pool gives
   * one). Two fixed parameters, not a rest array: the query path logs twice per query.
   */
  #log(message: string, detail?: unknown): void {
    if (this.#logger === undefined) return;
    if (detail === undefined) this.#logger(message);
    else this.#logger(message, detail);
  }

  /** pg-pool logs each pass over its queue after a release or a removal; there is no such pass here. */
  #logPulse(): void {
    if (this.#logger === undefined) return;
    this.#logger('pulse queue');
    if (this.ending) this.#logger('pulse queue on ending');
    else if (this.waitingCount === 0) this.#logger('no queued requests');
  }

  /** pg.Pool's `Promise` option: promises of that class when one is given. */
  #promise<T>(promise: Promise<T>): Promise<T> {
    const CustomPromise = this.#Promise;
    if (CustomPromise === undefined) return promise;
    return new CustomPromise<T>((resolve, reject) => promise.then(resolve, reject));
  }
}

// `pool instanceof pg.Pool` holds, as code that checks the class expects (Prisma's @prisma/adapter-pg
// takes an external pool only when it is one; Drizzle looks for a pool the same way). Every method and
// counter of pg.Pool is defined above; the rest of pg-pool's prototype (its internals) is never called.
Object.setPrototypeOf(Pool.prototype, pg.Pool.prototype);
