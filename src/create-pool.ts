import type { PoolOptions, ResolvedConfig } from './config/options.js';
import { resolveConfig } from './config/resolve-config.js';
import { Database } from './database.js';
import { DatabasePool } from './database-pool.js';
import type { Dialect } from './dialect/dialect.js';
import { createDialect } from './dialect/registry.js';
import { Observability } from './observe/observability.js';
import { mustDiscard } from './query/session.js';

/**
 * Create a pool. Options win over environment variables, which win over the profile defaults.
 * Invalid configuration throws CONFIG_INVALID before anything connects. `minIdle` connections
 * are opened in the background. Metrics, health checks, alerts, tracing and logs watch every pool
 * the database owns from its construction (see the `metrics`, `tracing`, `logger` and `alerts` options).
 *
 * @example const db = createPool({ url: 'postgres://app@localhost/app', size: 20, maxOverflow: 10 })
 * @example const db = createPool() // from DATABASE_URL, DB_POOL_SIZE, ...
 */
export function createPool(options: PoolOptions | string = {}): Database {
  const config = resolveConfig(typeof options === 'string' ? { url: options } : options);
  const db = openDatabase(config, createDialect(config));
  for (const pool of db.pools) pool.pool.start();
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
 * Every pool is born with its breaker, leak detector and observers; the facades get them too.
 */
export function openDatabase(config: ResolvedConfig, dialect: Dialect, wiring: DatabaseWiring = {}): Database {
  const settings = { ...config, ...dialect.routing?.pool };
  const resilience = {
    config,
    isConnectivityFailure: (error: unknown) => mustDiscard(dialect, error),
    options: { breaker: wiring.circuitBreaker !== false },
  };
  const observers = new Observability(config, dialect);
  const pools = [
    new DatabasePool({
      role: 'primary',
      connector: dialect.connector,
      settings,
      resilience,
      // On by default (the multiplex option); only dialects that can pipeline offer it (PostgreSQL).
      multiplexer: config.multiplex.enabled ? (pool) => dialect.createMultiplexer?.(pool) : undefined,
      observers,
    }),
  ];
  // SQLite's one writer: a pool of exactly one connection, so writers queue here, not in a lock loop.
  const writer = dialect.routing?.writer;
  if (writer !== undefined) {
    pools.push(
      new DatabasePool({
        role: 'writer',
        connector: writer.connector,
        settings: { ...settings, name: `${config.name}:writer`, size: 1, maxOverflow: 0, minIdle: Math.min(1, config.minIdle) },
        resilience,
        observers,
      }),
    );
  }
  return new Database(config, dialect, pools, observers);
}
