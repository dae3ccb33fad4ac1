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
  const pool = new ConnectionPool<unknown>(dialect.connector, config);
  attachResilience(pool, config, (error) => mustDiscard(dialect, error));
  const db = new Database(config, dialect, pool);
  instrument(db);
  pool.start();
  return db;
}
