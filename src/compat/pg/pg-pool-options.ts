import type { Client, ClientConfig, PoolConfig } from 'pg';
import type { PoolOptions } from '../../config/options.js';
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

/** What the facade builds from one pg.Pool config. */
export interface PgPoolPlan {
  /** Options for Spillway's resolveConfig: pg.Pool's behaviour unless a Spillway option says otherwise. */
  options: PoolOptions;
  /** Settings passed to every new pg.Client, as pg.Pool passes its config (password excluded). */
  clientConfig: ClientConfig;
  Client: (new (config: ClientConfig) => Client) | undefined;
  /** pg.Pool's config with its defaults filled in (pool.options), password not enumerable. */
  poolOptions: Record<string, unknown>;
}

/**
 * Translate a pg.Pool config into Spillway options and per-client settings. Where pg.Pool and
 * Spillway's defaults differ (no checkout timeout, 10 s idle timeout, no pre-ping, no statement
 * timeout, no overflow, no leak detection), pg.Pool's win unless the Spillway option is given.
 */
export function planPgPool(config: PgPoolConfig = {}, ClientArg?: new (config: ClientConfig) => Client): PgPoolPlan {
  const input = config as Record<string, unknown>;
  const { spillway, connection: clientConfig } = splitFacadeConfig(input, POOL_KEYS);
  const max = config.max || (input.poolSize as number | undefined) || 10;
  const min = config.min || 0;
  const idleTimeoutMillis = config.idleTimeoutMillis === undefined ? PG_IDLE_TIMEOUT_MS : config.idleTimeoutMillis || 0;
  const connectionTimeoutMillis = config.connectionTimeoutMillis || 0;
  const target = connectionTarget(config);

  // pg.Pool sends no session timeouts and no startup `options` of its own; keep Spillway's only when asked.
  if (spillway.statementTimeoutMs === undefined && spillway.lockTimeoutMs === undefined) clientConfig.options = config.options;
  // pg reads PGSSLMODE when `ssl` is left undefined; Spillway's URL-derived default must not override that.
  clientConfig.ssl = config.ssl;
  clientConfig.host = target.host;
  clientConfig.port = target.port;
  clientConfig.user = target.user;
  clientConfig.database = target.database;

  const options: PoolOptions = {
    ...facadeDefaults(idleTimeoutMillis),
    url: labelUrl('postgres', target.host, target.port, target.user, target.database),
    size: max,
    minIdle: Math.min(min, max),
    // 0 = wait for a connection as long as it takes, as pg.Pool does.
    checkoutTimeoutMs: connectionTimeoutMillis,
    ...(connectionTimeoutMillis > 0 ? { connectTimeoutMs: connectionTimeoutMillis } : {}),
    recycleMs: (config.maxLifetimeSeconds || 0) * 1000,
    maxUses: config.maxUses && Number.isFinite(config.maxUses) ? config.maxUses : 0,
    lockTimeoutMs: 0,
    // TLS is pg's own here (its `ssl`, the connection string's sslmode, PGSSLMODE), passed through to
    // each client; Spillway's libpq resolution must not read (or reject) the PGSSL* environment for it.
    tls: { mode: 'disable' },
    ...(config.password === undefined && target.password === undefined
      ? {}
      : { password: (config.password ?? target.password) as NonNullable<PoolOptions['password']> }),
    ...spillway,
  };

  const poolOptions: Record<string, unknown> = {
    ...input,
    max,
    min,
    idleTimeoutMillis: config.idleTimeoutMillis === undefined ? PG_IDLE_TIMEOUT_MS : config.idleTimeoutMillis,
    maxUses: config.maxUses || Number.POSITIVE_INFINITY,
    allowExitOnIdle: config.allowExitOnIdle || false,
    maxLifetimeSeconds: config.maxLifetimeSeconds || 0,
  };
  // Hidden as pg.Pool hides it, so it never shows in a console.log of pool.options.
  if ('password' in input) Object.defineProperty(poolOptions, 'password', { value: input.password, enumerable: false, writable: true });

  return {
    options,
    clientConfig: clientConfig as ClientConfig,
    Client: (config.Client as (new (config: ClientConfig) => Client) | undefined) ?? ClientArg,
    poolOptions,
  };
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
