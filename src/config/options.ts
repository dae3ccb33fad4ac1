import type { ConnectionTarget } from './connection-target.js';
import type { MultiplexOption, MultiplexSettings } from './multiplex-config.js';
import type { ObserveOptions, ResolvedObserveOptions } from './observe-options.js';
import type { ResolvedTls, TlsOptions } from './tls-config.js';

export type { ConnectionTarget, DialectName } from './connection-target.js';

/** Options accepted by `createPool`. Durations are milliseconds and say so in their names. */
export interface PoolOptions extends ObserveOptions {
  /** Where: postgres://, postgresql://, mysql://, mariadb://, sqlite:path or sqlite::memory:. */
  url?: string;
  /** Label on metrics, logs and the server's application_name. */
  name?: string;
  /** Persistent connections (QueuePool pool_size). */
  size?: number;
  /** Extra connections under load, closed again when returned to a full pool. */
  maxOverflow?: number;
  /** Connections opened at start and kept warm. */
  minIdle?: number;
  checkoutTimeoutMs?: number;
  /** Maximum connection age; each connection gets up to 2.5% random jitter below it. */
  recycleMs?: number;
  idleTimeoutMs?: number;
  prePing?: boolean;
  /** A connection used within this window is handed out without a ping (HikariCP's bypass). */
  prePingBypassMs?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  leakThresholdMs?: number;
  /** 'warn' reports a leak; 'reclaim' also takes the connection back. */
  leakAction?: 'warn' | 'reclaim';
  /**
   * When to capture the borrowing stack (a V8 stack capture costs microseconds per checkout):
   * 'adaptive' (default) captures one checkout in 128 until a first leak is seen, then every one;
   * 'always' captures every checkout from the start.
   */
  leakStackTraces?: 'adaptive' | 'always';
  /** Close a connection after this many checkouts (0 = unlimited). */
  maxUses?: number;
  circuit?: { failureThreshold?: number; recoveryTimeoutMs?: number };
  healthCheckIntervalMs?: number;
  podCount?: number;
  connectionBudget?: number;
  /** How often the background housekeeper runs (idle reaping, recycling, minIdle top-up). */
  housekeepingIntervalMs?: number;
  /** How long `db.ready()` and `db.initDb()` retry an unreachable database before failing (HikariCP's initializationFailTimeout). */
  initializationTimeoutMs?: number;
  /** 'transaction' for PgBouncer/Supavisor in transaction mode; `?pgbouncer=true` in the URL says the same. */
  serverPooler?: 'none' | 'transaction';
  /** The password, or a function called for each new connection (rotated credentials). */
  password?: string | (() => string | Promise<string>);
  /** Environment to read (defaults to process.env); tests pass their own. */
  env?: Record<string, string | undefined>;
  /** Driver-specific settings passed to the dialect (for example SQLite pragmas). */
  dialectOptions?: Record<string, unknown>;
  /**
   * TLS to the database (PostgreSQL, MySQL/MariaDB): libpq's sslmode semantics. Each field wins over
   * the URL's `sslmode`/`ssl-mode` family, which wins over `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`.
   */
  tls?: TlsOptions;
  /** PostgreSQL: plain statements share connections, up to `maxInFlight` (100) at once on each. On by default; `false` gives one statement per connection. */
  multiplex?: MultiplexOption;
}

/**
 * The effective, validated and frozen configuration of one pool. The logger, metrics registry and
 * tracer provider inside are the caller's objects, kept by reference (not deep-frozen).
 */
export interface ResolvedConfig extends ResolvedObserveOptions {
  readonly url: string;
  readonly target: Readonly<ConnectionTarget>;
  readonly name: string;
  readonly profile: 'production' | 'development';
  readonly size: number;
  readonly maxOverflow: number;
  readonly minIdle: number;
  readonly checkoutTimeoutMs: number;
  readonly recycleMs: number;
  readonly idleTimeoutMs: number;
  readonly prePing: boolean;
  readonly prePingBypassMs: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly leakThresholdMs: number;
  readonly leakAction: 'warn' | 'reclaim';
  readonly leakStackTraces: 'adaptive' | 'always';
  readonly maxUses: number;
  readonly circuit: Readonly<{ failureThreshold: number; recoveryTimeoutMs: number }>;
  readonly healthCheckIntervalMs: number;
  readonly podCount: number;
  readonly connectionBudget: number | undefined;
  readonly housekeepingIntervalMs: number;
  readonly initializationTimeoutMs: number;
  readonly serverPooler: 'none' | 'transaction';
  readonly password: string | (() => string | Promise<string>) | undefined;
  readonly dialectOptions: Readonly<Record<string, unknown>>;
  /** TLS as resolved from the tls option, the URL and the PGSSL* environment; never shown whole (describeConfig). */
  readonly tls: ResolvedTls;
  readonly multiplex: MultiplexSettings;
}
