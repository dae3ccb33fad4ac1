import { createHash, timingSafeEqual } from 'node:crypto';
import { register as defaultRegistry, Registry } from 'prom-client';
import type { Database } from '../database.js';
import { ConfigError } from '../errors.js';
import { type PoolView, poolView as viewOf } from '../observe/pool-view.js';

/** Options of `createHandler` (spillway/http) and the Fastify plugin (spillway/fastify). */
export interface EndpointOptions {
  /** The pool to serve (what createPool returns). */
  pool?: Database;
  /** Several pools; `?pool=<name>` picks one, the first is the default. */
  pools?: readonly Database[] | Readonly<Record<string, Database>>;
  /** Mount path, for example '/db' (node handler; Fastify applies its own register prefix). */
  prefix?: string;
  /** Bearer token protecting /health/detailed, /metrics/database/* and /metrics/performance/summary. */
  token?: string;
  /** Service name shown by /health/detailed (default 'spillway'). */
  service?: string;
  /** Registry for /metrics (default: the registries the pools export into). */
  registry?: Registry;
  /**
   * Let `POST <prefix>/metrics/reset` work without a token. Off by default: with no `token` the reset
   * is refused (403), since anyone who reaches the endpoint could otherwise wipe the figures an
   * incident is judged by.
   */
  allowResetWithoutToken?: boolean;
}

/** `POST <prefix>/metrics/reset`: db.resetStats() for the pool named by ?pool=, or for every pool served. */
export const RESET_PATH = '/metrics/reset';

/** A framework-free response: the node handler and the Fastify plugin both write it. */
export interface EndpointResponse {
  status: number;
  contentType: string;
  body: string;
}

/** The paths served (relative to the prefix), and whether each needs the token. */
export const ENDPOINT_PATHS: Readonly<Record<string, boolean>> = {
  '/health': false,
  '/health/database': false,
  '/health/pool': false,
  '/health/detailed': true,
  '/metrics': false,
  '/metrics/database/pool': true,
  '/metrics/database/health': true,
  '/metrics/database/config': true,
  '/metrics/performance/summary': true,
};

const JSON_TYPE = 'application/json; charset=utf-8';
/** The one JSON error shape of the endpoints, `{ error, code }`. */
export function errorResponse(status: number, error: string, code: string): EndpointResponse {
  return { status, contentType: JSON_TYPE, body: JSON.stringify({ error, code }) };
}

/** 401: tells a missing token from a refused one (the dashboard shows which), never why a token was refused. */
function unauthorized(authorization: string | undefined): EndpointResponse {
  return authorization === undefined || authorization === ''
    ? json(401, { error: 'a bearer token is required', code: 'TOKEN_REQUIRED' })
    : json(401, { error: 'the bearer token was refused', code: 'TOKEN_REFUSED' });
}

function json(status: number, value: unknown): EndpointResponse {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The endpoints of shared/CONTRACT.md, independent of any framework: a path, the query string and
 * the Authorization header in, a status, content type and body out. Thin over the library: every
 * body comes from status(), stats(), health(), describeConfig() or the observability views.
 */
export class Endpoints {
  readonly #pools: Database[];
  readonly #tokenDigest: Buffer | undefined;
  readonly #service: string;
  readonly #registry: Registry | undefined;
  readonly #allowResetWithoutToken: boolean;
  readonly #startedAt = Date.now();

  /** `options` may be the database itself (`createHandler(db)`), which is what a user types first. */
  constructor(options: EndpointOptions | Database) {
    const resolved = endpointOptions(options);
    this.#pools = databasesOf(resolved);
    this.#tokenDigest = resolved.token === undefined || resolved.token === '' ? undefined : digest(resolved.token);
    this.#service = resolved.service ?? 'spillway';
    this.#registry = resolved.registry;
    this.#allowResetWithoutToken = resolved.allowResetWithoutToken === true;
  }

  /** Whether `path` (relative to the prefix, no trailing slash) is one of ours. */
  has(path: string): boolean {
    return Object.hasOwn(ENDPOINT_PATHS, path);
  }

  async handle(path: string, query: URLSearchParams, authorization: string | undefined): Promise<EndpointResponse> {
    if (!this.has(path)) return json(404, { error: 'not found', code: 'NOT_FOUND' });
    if (ENDPOINT_PATHS[path] && !this.#authorized(authorization)) return unauthorized(authorization);
    if (path === '/health')
      return json(200, { status: 'ok', service: this.#service, uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000) });
    if (path === '/metrics') return this.#metrics();
    const poolName = query.get('pool');
    const db = poolName === null ? this.#pools[0] : this.#pools.find((p) => p.name === poolName);
    if (db === undefined)
      return json(404, { error: `no pool named ${JSON.stringify(poolName)}`, code: 'NOT_FOUND', pools: this.#pools.map((p) => p.name) });
    switch (path) {
      case '/health/database': {
        const ping = await db.observability.health.ping();
        return json(ping.ok ? 200 : 503, {
          status: ping.ok ? 'healthy' : 'unhealthy',
          latencyMs: ping.latencyMs,
          dialect: db.dialect.name,
          pool: db.name,
          ...(ping.error === undefined ? {} : { error: ping.error }),
        });
      }
      case '/health/pool':
        return json(200, poolView(db));
      case '/health/detailed':
        return this.#detailed(db);
      case '/metrics/database/pool': {
        const stats = db.stats();
        return json(200, {
          status: poolView(db),
          stats,
          hitRatio: stats.checkouts === 0 ? 1 : (stats.checkouts - stats.waits) / stats.checkouts,
        });
      }
      case '/metrics/database/health': {
        const monitor = db.observability.health;
        return json(200, {
          pool: db.name,
          intervalMs: db.config.healthCheckIntervalMs,
          last: monitor.last ?? null,
          consecutiveFailures: monitor.consecutiveFailures,
          counts: monitor.counts(),
          history: monitor.history(),
        });
      }
      case '/metrics/database/config':
        return json(200, db.describeConfig());
      default: // '/metrics/performance/summary'
        return json(200, db.observability.performance());
    }
  }

  /**
   * `POST /metrics/reset`: needs the bearer token (401 without it); refused (403) when no token is
   * configured unless `allowResetWithoutToken`. Answers with the figures each pool had just before.
   */
  reset(query: URLSearchParams, authorization: string | undefined): EndpointResponse {
    if (this.#tokenDigest === undefined && !this.#allowResetWithoutToken) {
      return json(403, {
        error: 'resetting statistics needs a token: configure one (token), or set allowResetWithoutToken',
        code: 'RESET_DISABLED',
      });
    }
    if (!this.#authorized(authorization)) return unauthorized(authorization);
    const poolName = query.get('pool');
    const pools = poolName === null ? this.#pools : this.#pools.filter((p) => p.name === poolName);
    if (pools.length === 0)
      return json(404, { error: `no pool named ${JSON.stringify(poolName)}`, code: 'NOT_FOUND', pools: this.#pools.map((p) => p.name) });
    return json(200, { pools: pools.map((db) => db.resetStats()) });
  }

  #authorized(header: string | undefined): boolean {
    if (this.#tokenDigest === undefined) return true;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    // Compare digests so the comparison takes the same time whatever the length of the guess.
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1].trim()), this.#tokenDigest);
  }

  async #detailed(db: Database): Promise<EndpointResponse> {
    const report = await db.health();
    const leaks = db.observability.leaks();
    const { pool, utilization, utilizationHigh: _, pools, ...rest } = report;
    const body = {
      ...rest,
      service: this.#service,
      database: {
        status: report.error === undefined ? 'up' : 'down',
        latencyMs: report.latencyMs,
        dialect: report.dialect,
        ...(report.error ? { error: report.error } : {}),
        // Every pool the database owns (SQLite's writer too).
        pools,
      },
      pool: { ...pool, utilization },
      leaks,
      ...(this.#pools.length > 1
        ? { pools: this.#pools.map((p) => ({ name: p.name, status: p.observability.health.last?.status ?? 'unknown' })) }
        : {}),
    };
    return json(report.status === 'unhealthy' ? 503 : 200, body);
  }

  async #metrics(): Promise<EndpointResponse> {
    let registry = this.#registry;
    if (registry === undefined) {
      const registries = [...new Set(this.#pools.map((p) => p.observability.registry ?? defaultRegistry))];
      registry = registries.length === 1 ? (registries[0] as Registry) : Registry.merge(registries);
    }
    return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
  }
}

/**
 * /health/pool: the primary pool's status snapshot plus utilization (checkedOut / max, 0..1), and
 * `pools`: every pool the database owns (SQLite's writer too) with its role, status, utilization,
 * checkout timeouts, leaks and circuit state.
 */
export function poolView(db: Database): Record<string, unknown> & { pools: PoolView[] } {
  const status = db.status();
  return { ...status, utilization: status.max === 0 ? 0 : status.checkedOut / status.max, pools: db.pools.map(viewOf) };
}

/** Options as given to createHandler or the Fastify plugin: the database itself stands for `{ pool: db }`. */
export function endpointOptions<T extends EndpointOptions>(given: T | Database): T {
  return (isDatabase(given) ? { pool: given } : given) as T;
}

/** What createPool returns, recognised by its surface (a second copy of the package has another class). */
function isDatabase(value: unknown): value is Database {
  if (value === null || typeof value !== 'object') return false;
  const db = value as Record<string, unknown>;
  return (
    typeof db.health === 'function' &&
    typeof db.status === 'function' &&
    typeof db.stats === 'function' &&
    typeof db.describeConfig === 'function' &&
    typeof db.observability === 'object' &&
    db.observability !== null
  );
}

const ACCEPTED = 'pass the database (createHandler(db)), { pool: db } or { pools: [db, ...] }, each what createPool returns';

/** The databases to serve, checked once at creation: a wrong argument fails here, never per request. */
function databasesOf(options: EndpointOptions): Database[] {
  if (options === null || typeof options !== 'object') throw new ConfigError('pool', `createHandler: got ${typeof options}; ${ACCEPTED}`);
  const { pool, pools } = options;
  if (pools !== undefined && (pools === null || typeof pools !== 'object'))
    throw new ConfigError('pools', `createHandler: pools must be an array or an object of databases; ${ACCEPTED}`);
  const list: unknown[] = pools === undefined ? [] : Array.isArray(pools) ? [...pools] : Object.values(pools);
  if (pool !== undefined) list.unshift(pool);
  if (list.length === 0) throw new ConfigError('pool', `createHandler: no database given; ${ACCEPTED}`);
  list.forEach((entry, index) => {
    if (!isDatabase(entry)) {
      const where = pool !== undefined && index === 0 ? 'pool' : 'pools';
      throw new ConfigError(where, `createHandler: ${where} holds something that is not a database; ${ACCEPTED}`);
    }
  });
  return list as Database[];
}
