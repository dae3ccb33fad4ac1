import type { StatementMultiplexer } from './dialect/dialect.js';
import type { Connector } from './pool/connector.js';
import type { CircuitState } from './pool/events.js';
import { ConnectionPool, type CorePoolSettings } from './pool/pool.js';
import type { CircuitSnapshot } from './resilience/circuit-breaker.js';
import { Resilience, type ResilienceConfig, type ResilienceOptions } from './resilience/resilience.js';

/**
 * What a pool does for its database. Today `primary` (every pool) and `writer` (SQLite's one
 * writing connection); the next wave adds replicas and tenants, each one more pool of the same kind.
 */
export type PoolRole = 'primary' | 'writer';

/**
 * Whatever watches a database's pools (metrics, health, alerts, tracing, logs: src/observe's
 * Observability). Each pool calls `watch` once, from its constructor, so no pool ever exists
 * unobserved and nothing is attached afterwards. Returns how to stop watching.
 */
export interface PoolObservers {
  watch(pool: DatabasePool): () => void;
}

/** Watches nothing: the default, so the hot path pays nothing (HikariCP's NopMetricsTracker). */
export const NO_OBSERVERS: PoolObservers = { watch: () => () => undefined };

export interface DatabasePoolOptions {
  role: PoolRole;
  connector: Connector<unknown>;
  settings: CorePoolSettings;
  /** The circuit breaker and leak detection of this pool (see {@link Resilience}). */
  resilience: { config: ResilienceConfig; isConnectivityFailure: (error: unknown) => boolean; options?: ResilienceOptions };
  /** Shares this pool's connections between plain statements (PostgreSQL pipelining); built before the pool is watched. */
  multiplexer?: (pool: ConnectionPool<unknown>) => StatementMultiplexer | undefined;
  observers?: PoolObservers;
}

/**
 * One pool of a {@link Database}: its role, the core pool, its breaker and leak detector, its
 * multiplexer if any, and the observers watching it, all set at construction.
 */
export class DatabasePool {
  readonly role: PoolRole;
  readonly pool: ConnectionPool<unknown>;
  readonly resilience: Resilience;
  readonly multiplexer: StatementMultiplexer | undefined;
  readonly #unwatch: () => void;

  constructor(options: DatabasePoolOptions) {
    this.role = options.role;
    const { config, isConnectivityFailure, options: resilienceOptions } = options.resilience;
    let resilience: Resilience | undefined;
    this.pool = new ConnectionPool<unknown>(options.connector, options.settings, {
      gate: (pool) => {
        resilience = new Resilience(pool, config, isConnectivityFailure, resilienceOptions);
        return resilience.gate;
      },
    });
    this.resilience = resilience as unknown as Resilience;
    this.multiplexer = options.multiplexer?.(this.pool);
    this.#unwatch = (options.observers ?? NO_OBSERVERS).watch(this);
  }

  get name(): string {
    return this.pool.name;
  }

  /** The breaker's state (the one source of it); undefined without a breaker. */
  circuit(): CircuitSnapshot | undefined {
    return this.resilience.snapshot();
  }

  /** The circuit state, 'closed' without a breaker. */
  get circuitState(): CircuitState {
    return this.resilience.state;
  }

  /** Stop watching (observers first, so closing is not reported as trouble). */
  unwatch(): void {
    this.#unwatch();
  }
}
