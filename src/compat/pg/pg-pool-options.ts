import type { Client, ClientConfig, PoolConfig } from 'pg';
import type { PoolOptions } from '../../config/options.js';
import type { CorePoolSettings } from '../../pool/pool.js';
import { type FacadeTarget, facadeDefaults, labelUrl, type SpillwayExtras, splitFacadeConfig, targetFromUrl } from '../facade-settings.js';

export type { SpillwayExtras };

/** The constructor options of `spillway/pg`'s Pool: pg.Pool's own, plus Spillway's (all optional). */
export type PgPoolConfig = PoolConfig & SpillwayExtras;

/** pg.Pool's own settings, which are not passed to each client. */
const POOL_KEYS = new Set([
  'max',
  'min',
  'poolSize',
  'idleTimeoutMillis',
  'connectionTimeoutMillis',
  'maxUses',
  'maxLifetimeSeconds',
  'allowExitOnIdle',
  'Client',
  'Promise',
  'log',
  'verify',
  'onConnect',
  'password',
]);

/** pg.Pool's default idle timeout. */
const PG_IDLE_TIMEOUT_MS = 10_000;
/** The longest timer Node accepts: "no limit" where pg.Pool has none. */
export const FOREVER_MS = 2_147_483_647;
/** Bound on a pre-ping (opt-in) when neither connectTimeoutMs nor connectionTimeoutMillis gives one. */
const PING_TIMEOUT_MS = 10_000;

/** What the facade builds from one pg.Pool config. */
export interface PgPoolPlan {
  /** Options for Spillway's resolveConfig, describing the pool as it behaves (pool.spillway.config). */
  options: PoolOptions;
  /**
   * Settings forced on the core pool: the facade times every client itself, as pg.Pool does (idle and
   * lifetime timers, maxUses, `min` only sparing clients from idle removal), opens exactly one
   * client per connect attempt, and frees a client's slot as its close begins, as pg.Pool does. Spillway's own recycleMs, connectTimeoutMs and housekeepingIntervalMs
   * still reach the core when given.
   */
  core: Partial<CorePoolSettings>;
  /** What every new pg.Client is given: pg.Pool's options object, as pg.Pool passes it. */
  clientConfig: ClientConfig;
  Client: (new (config: ClientConfig) => Client) | undefined;
  /** pg.Pool's config with its defaults filled in (pool.options), password not enumerable. */
  poolOptions: Record<string, unknown>;
  /** pg.Pool's settings the facade enforces itself. */
  pg: {
    max: number;
    min: number;
    idleTimeoutMillis: number;
    connectionTimeoutMillis: number;
    maxUses: number;
    maxLifetimeSeconds: number;
    allowExitOnIdle: boolean;
    pingTimeoutMs: number;
  };
  /** Spillway's circuit breaker only when `circuit` is given: pg.Pool has none. */
  circuitBreaker: boolean;
}

/**
 * Translate a pg.Pool config into Spillway options, core settings and per-client settings. Where pg.Pool
 * and Spillway's defaults differ (no checkout timeout, 10 s idle timeout, no pre-ping, no statement
 * timeout, no overflow, no leak detection, no breaker), pg.Pool's win unless the Spillway option is given.
 */
export function planPgPool(config: PgPoolConfig = {}, ClientArg?: new (config: ClientConfig) => Client): PgPoolPlan {
  const input = config as Record<string, unknown>;
  const { spillway } = splitFacadeConfig(input, POOL_KEYS);
  const extras = spillway as SpillwayExtras;
  // pg-pool's own defaulting, word for word: `||` and a typeof check for idleTimeoutMillis.
  const max = config.max || (input.poolSize as number | undefined) || 10;
  const min = config.min || 0;
  const idleTimeoutMillis = config.idleTimeoutMillis === undefined ? PG_IDLE_TIMEOUT_MS : config.idleTimeoutMillis;
  const connectionTimeoutMillis = config.connectionTimeoutMillis || 0;
  const maxUses = config.maxUses || Number.POSITIVE_INFINITY;
  const maxLifetimeSeconds = config.maxLifetimeSeconds || 0;
  const target = connectionTarget(config);

  const poolOptions: Record<string, unknown> = {
    ...input,
    max,
    min,
    idleTimeoutMillis,
    maxUses,
    allowExitOnIdle: config.allowExitOnIdle || false,
    maxLifetimeSeconds,
  };
  // Hidden as pg.Pool hides them, so they never show in a console.log of pool.options or a client.
  if ('password' in input)
    Object.defineProperty(poolOptions, 'password', { value: input.password, enumerable: false, writable: true, configurable: true });
  const ssl = config.ssl as { key?: unknown } | undefined;
  if (ssl !== null && typeof ssl === 'object' && ssl.key) Object.defineProperty(ssl, 'key', { enumerable: false });

  const options: PoolOptions = {
    ...facadeDefaults(idleTimeoutMillis || 0),
    url: labelUrl('postgres', target.host, target.port, target.user, target.database),
    size: max,
    minIdle: Math.min(min, max),
    // 0 = wait for a client as long as it takes, as pg.Pool does.
    checkoutTimeoutMs: connectionTimeoutMillis,
    connectTimeoutMs: connectionTimeoutMillis || FOREVER_MS,
    recycleMs: maxLifetimeSeconds * 1000,
    maxUses: Number.isFinite(maxUses) ? maxUses : 0,
    lockTimeoutMs: 0,
    housekeepingIntervalMs: 30_000,
    // TLS is pg's own here (its `ssl`, the connection string's sslmode, PGSSLMODE), passed through to
    // each client; Spillway's libpq resolution must not read (or reject) the PGSSL* environment for it.
    tls: { mode: 'disable' },
    ...(config.password === undefined && target.password === undefined
      ? {}
      : { password: (config.password ?? target.password) as NonNullable<PoolOptions['password']> }),
    ...spillway,
  };

  return {
    options,
    core: {
      minIdle: 0,
      idleTimeoutMs: 0,
      maxUses: 0,
      recycleMs: extras.recycleMs ?? 0,
      connectTimeoutMs: extras.connectTimeoutMs ?? FOREVER_MS,
      hedgeConnects: false,
      closingHoldsSlot: false,
    },
    clientConfig: clientConfigFor(poolOptions, extras),
    Client: (config.Client as (new (config: ClientConfig) => Client) | undefined) ?? ClientArg,
    poolOptions,
    pg: {
      max,
      min,
      idleTimeoutMillis: idleTimeoutMillis || 0,
      connectionTimeoutMillis,
      maxUses,
      maxLifetimeSeconds,
      allowExitOnIdle: config.allowExitOnIdle === true,
      pingTimeoutMs: extras.connectTimeoutMs ?? (connectionTimeoutMillis || PING_TIMEOUT_MS),
    },
    circuitBreaker: extras.circuit !== undefined,
  };
}

/**
 * pg.Pool hands its own options object to every client; so does the facade. Only Spillway's opt-in
 * session timeouts change it: they are sent as startup `options`, after the user's own.
 */
function clientConfigFor(poolOptions: Record<string, unknown>, extras: SpillwayExtras): ClientConfig {
  const settings: string[] = [];
  if (extras.serverPooler !== 'transaction') {
    if (extras.statementTimeoutMs !== undefined) settings.push(`-c statement_timeout=${extras.statementTimeoutMs}`);
    if (extras.lockTimeoutMs !== undefined) settings.push(`-c lock_timeout=${extras.lockTimeoutMs}`);
  }
  if (settings.length === 0) return poolOptions as ClientConfig;
  const own = typeof poolOptions.options === 'string' && poolOptions.options !== '' ? [poolOptions.options] : [];
  const copy: Record<string, unknown> = { ...poolOptions, options: [...own, ...settings].join(' ') };
  if ('password' in poolOptions) {
    Object.defineProperty(copy, 'password', { value: poolOptions.password, enumerable: false, writable: true, configurable: true });
  }
  return copy as ClientConfig;
}

/**
 * Where pg would connect: the connection string, then the fields, then libpq's environment
 * variables, then pg's defaults. Only used to label the pool and to give pg the same answer.
 */
function connectionTarget(config: ClientConfig): FacadeTarget {
  const env = process.env;
  let fromString: Partial<FacadeTarget> = {};
  if (config.connectionString !== undefined) {
    try {
      fromString = targetFromUrl(config.connectionString, 'connectionString');
    } catch {
      // pg understands forms URL does not (socket:/path?db=x); it parses those itself.
    }
  }
  const user = fromString.user ?? config.user ?? env.PGUSER ?? (process.platform === 'win32' ? env.USERNAME : env.USER);
  return {
    host: fromString.host ?? config.host ?? env.PGHOST ?? 'localhost',
    port: Number(fromString.port ?? config.port ?? env.PGPORT ?? 5432),
    user,
    database: fromString.database ?? config.database ?? env.PGDATABASE ?? user,
    password: fromString.password,
  };
}
