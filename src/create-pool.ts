import type { PoolOptions, ResolvedConfig } from './config/options.js';
import { resolveConfig } from './config/resolve-config.js';
import { Database } from './database.js';
import type { Dialect } from './dialect/dialect.js';
import { createDialect } from './dialect/registry.js';
import { instrument } from './observe/observability.js';
import { ConnectionPool } from './pool/pool.js';
import { mustDiscard } from './query/session.js';
import { attachResilience } from './resilience/resilience.js';

/**
 * Create a pool. Options win over environment variables, which win over the profile defaults.
 * Invalid configuration throws CONFIG_INVALID before anything connects. `minIdle` connections
 * are opened in the background. Metrics, health checks, alerts, tracing and logs are attached here
 * (see the `metrics`, `tracing`, `logger` and `alerts` options).
 *
 * @example const db = createPool({ url: 'postgres://app@localhost/app', size: 20, maxOverflow: 10 })
 * @example const db = createPool() // from DATABASE_URL, DB_POOL_SIZE, ...
 */
export function createPool(options: PoolOptions | string = {}): Database {
  const config = resolveConfig(typeof options === 'string' ? { url: options } : options);
  const db = openDatabase(config, createDialect(config));
  db.pool.start();
  db.writerPool?.start();
  return db;
}

/** What {@link openDatabase} attaches beyond the pools. */
export interface DatabaseWiring {
  /** False: no circuit breaker (a drop-in pool whose original has none, until the user opts in). */
  circuitBreaker?: boolean;
}

/**
 * Wire the pools and the query layer for a resolved config and a dialect, without starting them.
 * Shared by createPool and the drop-in facades (spillway/pg, spillway/mysql): they bring a dialect
 * whose connector runs their driver's hooks, and start the pool on first use as pg.Pool does.
 * Wiring every pool needs (resilience, instrumentation) belongs here, so the facades get it too.
 */
export function openDatabase(config: ResolvedConfig, dialect: Dialect, wiring: DatabaseWiring = {}): Database {
  const settings = { ...config, ...dialect.routing?.pool };
  const pool = new ConnectionPool<unknown>(dialect.connector, settings);
  const isConnectivityFailure = (error: unknown) => mustDiscard(dialect, error);
  const resilience = { breaker: wiring.circuitBreaker !== false };
  attachResilience(pool, config, isConnectivityFailure, resilience);
  // SQLite's one writer: a pool of exactly one connection, so writers queue here, not in a lock loop.
  const writer = dialect.routing?.writer;
  const writerPool =
    writer === undefined
      ? undefined
      : new ConnectionPool<unknown>(writer.connector, {
          ...settings,
          name: `${config.name}:writer`,
          size: 1,
          maxOverflow: 0,
          minIdle: Math.min(1, config.minIdle),
        });
  if (writerPool !== undefined) attachResilience(writerPool, config, isConnectivityFailure, resilience);
  // Opt-in (multiplex option, off by default); only dialects that can pipeline offer it (PostgreSQL).
  const multiplexer = config.multiplex.enabled ? dialect.createMultiplexer?.(pool) : undefined;
  const db = new Database(config, dialect, pool, writerPool, multiplexer);
  instrument(db);
  return db;
}
