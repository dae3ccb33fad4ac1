import type { PoolOptions } from '../config/options.js';
import { redactUrl } from '../config/url.js';
import { ConfigError } from '../errors.js';

/**
 * Spillway options that ride along in a drop-in pool's config (spillway/pg, spillway/mysql). Each is
 * off, or as the driver's own pool behaves, unless given: pass them to opt in to overflow, pre-ping,
 * leak detection, timeouts, the breaker.
 */
export type SpillwayExtras = Pick<
  PoolOptions,
  | 'name'
  | 'maxOverflow'
  | 'prePing'
  | 'prePingBypassMs'
  | 'leakThresholdMs'
  | 'leakAction'
  | 'circuit'
  | 'healthCheckIntervalMs'
  | 'statementTimeoutMs'
  | 'lockTimeoutMs'
  | 'checkoutTimeoutMs'
  | 'connectTimeoutMs'
  | 'recycleMs'
  | 'housekeepingIntervalMs'
  | 'podCount'
  | 'connectionBudget'
  | 'serverPooler'
  | 'env'
>;

const SPILLWAY_KEYS = new Set<string>([
  'name',
  'maxOverflow',
  'prePing',
  'prePingBypassMs',
  'leakThresholdMs',
  'leakAction',
  'circuit',
  'healthCheckIntervalMs',
  'statementTimeoutMs',
  'lockTimeoutMs',
  'checkoutTimeoutMs',
  'connectTimeoutMs',
  'recycleMs',
  'housekeepingIntervalMs',
  'podCount',
  'connectionBudget',
  'serverPooler',
  'env',
]);

/**
 * Split a drop-in pool's config three ways: Spillway's options, the driver pool's own settings
 * (`poolKeys`), and the rest, which the driver's pool passes to every connection.
 */
export function splitFacadeConfig(
  config: Record<string, unknown>,
  poolKeys: ReadonlySet<string>,
): { spillway: Record<string, unknown>; connection: Record<string, unknown> } {
  const spillway: Record<string, unknown> = {};
  const connection: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SPILLWAY_KEYS.has(key)) spillway[key] = value;
    else if (!poolKeys.has(key)) connection[key] = value;
  }
  return { spillway, connection };
}

/**
 * The Spillway options every facade starts from: nothing the driver's pool lacks (no overflow, no
 * checkout timeout, no pre-ping, no statement timeout, no leak detection, no background health
 * check), and no DB_* environment unless `env` is given, since the driver's pool reads none.
 */
export function facadeDefaults(idleTimeoutMs: number): PoolOptions {
  return {
    maxOverflow: 0,
    checkoutTimeoutMs: 0,
    idleTimeoutMs,
    prePing: false,
    statementTimeoutMs: 0,
    leakThresholdMs: 0,
    healthCheckIntervalMs: 0,
    // One statement per connection, as the driver's own pool: pool.query lends a real client anyway.
    multiplex: false,
    // Idle connections are reaped at most a quarter of the idle timeout late, as per-connection timers would.
    housekeepingIntervalMs: idleTimeoutMs > 0 ? Math.max(10, Math.min(30_000, Math.round(idleTimeoutMs / 4))) : 30_000,
    env: {},
  };
}

/** Where a facade's connections go: used to label the pool, and handed to the driver unchanged. */
export interface FacadeTarget {
  host: string;
  port: number;
  user: string | undefined;
  database: string | undefined;
  /** Only from a connection URL; never part of a label. */
  password: string | undefined;
}

/**
 * The parts of a connection URL (pg's connectionString, mysql2's uri); `?host=` names a socket
 * directory. A URL that does not parse is CONFIG_INVALID naming `option`, with the password hidden:
 * URL's own TypeError would carry the whole URL as its `input`.
 */
export function targetFromUrl(url: string, option: string): Partial<FacadeTarget> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      option,
      `${option}="${redactUrl(url)}" is not a valid URL; percent-encode (encodeURIComponent) any / ? # @ : or space in the user or password`,
    );
  }
  const host =
    parsed.searchParams.get('host') ?? (parsed.hostname ? decodeURIComponent(parsed.hostname.replace(/^\[(.*)\]$/, '$1')) : undefined);
  return {
    host: host || undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    database: parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

/** A URL naming the server for Spillway's config, logs and metrics; it never carries the password. */
export function labelUrl(
  scheme: 'postgres' | 'mysql',
  host: string,
  port: number,
  user: string | undefined,
  database: string | undefined,
): string {
  const userPart = user === undefined || user === '' ? '' : `${encodeURIComponent(user)}@`;
  const hostPart = host.includes(':') ? `[${host}]` : encodeURIComponent(host);
  return `${scheme}://${userPart}${hostPart}:${port}/${database === undefined ? '' : encodeURIComponent(database)}`;
}

/** Settle a Node-style callback from a promise, or return the promise when there is no callback. */
export function withCallback<T>(
  promise: Promise<T>,
  callback: ((error: Error | null | undefined, value?: T) => void) | undefined,
  errorFirst: null | undefined = undefined,
): Promise<T> | undefined {
  if (callback === undefined) return promise;
  promise.then(
    (value) => callback(errorFirst, value),
    (error: Error) => callback(error),
  );
  return undefined;
}
