import type { PoolOptions } from './config/options.js';
import { resolveConfig } from './config/resolve-config.js';
import { Database } from './database.js';
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
  const dialect = createDialect(config);
  const settings = { ...config, ...dialect.routing?.pool };
  const pool = new ConnectionPool<unknown>(dialect.connector, settings);
  const isConnectivityFailure = (error: unknown) => mustDiscard(dialect, error);
  attachResilience(pool, config, isConnectivityFailure);
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
  if (writerPool !== undefined) attachResilience(writerPool, config, isConnectivityFailure);
  const db = new Database(config, dialect, pool, writerPool);
  instrument(db);
  pool.start();
  writerPool?.start();
  return db;
}
