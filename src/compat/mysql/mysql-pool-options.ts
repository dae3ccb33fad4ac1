import type { PoolOptions as Mysql2PoolOptions } from 'mysql2/promise';
import type { PoolOptions } from '../../config/options.js';
import { type FacadeTarget, facadeDefaults, labelUrl, type SpillwayExtras, splitFacadeConfig, targetFromUrl } from '../facade-settings.js';

/** The options of `spillway/mysql`'s createPool: mysql2's pool options, plus Spillway's (all optional). */
export type MysqlPoolConfig = Mysql2PoolOptions & SpillwayExtras;

/** mysql2's pool settings, which are not passed to each connection. */
const POOL_KEYS = new Set([
  'connectionLimit',
  'maxIdle',
  'idleTimeout',
  'queueLimit',
  'waitForConnections',
  'resetOnRelease',
  'password',
  'Promise',
]);

/** mysql2's pool defaults. */
const MYSQL2_CONNECTION_LIMIT = 10;
const MYSQL2_IDLE_TIMEOUT_MS = 60_000;
const MYSQL2_CONNECT_TIMEOUT_MS = 10_000;
/** How often mysql2's pool looks for connections idle past idleTimeout. */
const MYSQL2_IDLE_CHECK_MS = 1_000;
/** InnoDB's default innodb_lock_wait_timeout: the lock wait assumed when the app sets no time limit. */
const INNODB_LOCK_WAIT_MS = 50_000;

export interface MysqlPoolPlan {
  options: PoolOptions;
  /** Settings passed to every new mysql2 connection (password excluded). */
  connectionOptions: Record<string, unknown>;
  waitForConnections: boolean;
  /** Waiters allowed before a checkout fails at once (0 = unlimited). */
  queueLimit: number;
  /** Reset the session (COM_RESET_CONNECTION) when a connection comes back, as mysql2's resetOnRelease. */
  resetOnRelease: boolean;
  /** The breaker only when `circuit` is given: mysql2's pool has none. */
  circuitBreaker: boolean;
  /**
   * Session time limits only when the app gives one (or the `DB_*` environment, which may): mysql2's
   * pool leaves the server's lock-wait defaults alone, and a drop-in must not shorten them.
   */
  sessionSettings: boolean;
  /** mysql2's pool settings as mysql2 reports them in `pool.config`. */
  mysql2: {
    connectionLimit: number;
    maxIdle: number;
    idleTimeout: number;
    queueLimit: number;
    waitForConnections: boolean;
    resetOnRelease: boolean;
  };
}

/**
 * Translate a mysql2 pool config into Spillway options and per-connection settings. Where mysql2's
 * pool and Spillway's defaults differ, mysql2's win unless the Spillway option is given.
 */
export function planMysqlPool(input: MysqlPoolConfig | string): MysqlPoolPlan {
  const config: MysqlPoolConfig = typeof input === 'string' ? { uri: input } : { ...input };
  const { spillway, connection } = splitFacadeConfig(config as Record<string, unknown>, POOL_KEYS);
  const target = connectionTarget(config);
  const connectionLimit = config.connectionLimit ?? MYSQL2_CONNECTION_LIMIT;
  const maxIdle = config.maxIdle ?? connectionLimit;
  // mysql2 reaps idle connections only when maxIdle < connectionLimit.
  const idleTimeout = config.idleTimeout ?? MYSQL2_IDLE_TIMEOUT_MS;
  const idleTimeoutMs = maxIdle < connectionLimit ? idleTimeout : 0;

  // The dialect's own connection defaults that mysql2's pool does not share: restore mysql2's.
  connection.supportBigNumbers = config.supportBigNumbers ?? false;
  connection.charset = config.charset;
  connection.host = target.host;
  connection.port = target.port;
  connection.user = target.user;
  connection.database = target.database;

  const password = config.password ?? target.password;
  const options: PoolOptions = {
    ...facadeDefaults(idleTimeoutMs),
    url: labelUrl('mysql', target.host, target.port, target.user, target.database),
    size: connectionLimit,
    minIdle: 0,
    // mysql2 looks for connections idle past idleTimeout once a second: the housekeeper does the same.
    ...(idleTimeoutMs > 0 ? { housekeepingIntervalMs: Math.min(MYSQL2_IDLE_CHECK_MS, idleTimeoutMs) } : {}),
    connectTimeoutMs: config.connectTimeout ?? MYSQL2_CONNECT_TIMEOUT_MS,
    lockTimeoutMs: INNODB_LOCK_WAIT_MS,
    ...(password === undefined ? {} : { password }),
    ...spillway,
  };
  const waitForConnections = config.waitForConnections ?? true;
  const queueLimit = config.queueLimit ?? 0;
  const resetOnRelease = (config as { resetOnRelease?: boolean }).resetOnRelease === true;
  return {
    options,
    connectionOptions: connection,
    waitForConnections,
    queueLimit,
    resetOnRelease,
    circuitBreaker: config.circuit !== undefined,
    sessionSettings: spillway.statementTimeoutMs !== undefined || spillway.lockTimeoutMs !== undefined || spillway.env !== undefined,
    mysql2: { connectionLimit, maxIdle, idleTimeout, queueLimit, waitForConnections, resetOnRelease },
  };
}

/** Where mysql2 would connect: the fields, over the `uri`, over mysql2's defaults. */
function connectionTarget(config: MysqlPoolConfig): FacadeTarget {
  const fromUri: Partial<FacadeTarget> = config.uri === undefined ? {} : targetFromUrl(config.uri, 'uri');
  return {
    host: config.host ?? fromUri.host ?? 'localhost',
    port: Number(config.port ?? fromUri.port ?? 3306),
    user: config.user ?? fromUri.user,
    database: config.database ?? fromUri.database,
    password: fromUri.password,
  };
}
