/**
 * `spillway/internal`: the building blocks behind the public API, for drop-in facades, tools and
 * tests built on the core. Not covered by semver: names and signatures here change with the code.
 * The public surface is `spillway` (src/index.ts).
 */

export { type DatabaseWiring, openDatabase } from './create-pool.js';
export { DatabasePool, type DatabasePoolOptions, NO_OBSERVERS, type PoolObservers } from './database-pool.js';
export type { ShapeView, SharedLeasesStatus, StatementMultiplexer } from './dialect/dialect.js';
export { Observability } from './observe/observability.js';
export { type Clock, type ClockTimer, systemClock } from './pool/clock.js';
export { ConnectionPool, type CorePoolSettings, type PoolGate, type PoolOptions } from './pool/pool.js';
export { Resilience, type ResilienceConfig, type ResilienceOptions } from './resilience/resilience.js';
