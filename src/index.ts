/**
 * Spillway: a connection pool for Node.js with QueuePool semantics on PostgreSQL, MySQL/MariaDB and SQLite.
 * This file is the public surface of the `spillway` entry point (shared/CONTRACT.md, plus the types a
 * user needs to type it); the building blocks behind it are in `spillway/internal`, with no promise
 * of stability.
 */

export type { MultiplexOption, MultiplexSettings } from './config/multiplex-config.js';
export type { AlertThresholds, Logger, ObserveOptions } from './config/observe-options.js';
export type { ConnectionTarget, DialectName, PoolOptions, ResolvedConfig } from './config/options.js';
export { describeConfig, resolveConfig } from './config/resolve-config.js';
export { type PoolSizeRecommendation, recommendPoolSize } from './config/sizing.js';
export type { ResolvedTls, TlsMode, TlsOptions } from './config/tls-config.js';
export { redactUrl } from './config/url.js';
export { createPool } from './create-pool.js';
export {
  Database,
  type DatabaseTransactionOptions,
  type HealthReport,
  type QueryOptions,
  type SessionOptions,
  type StatsReset,
} from './database.js';
export type { PoolRole } from './database-pool.js';
export type { BatchDialect } from './dialect/batch-dialect.js';
export type {
  Dialect,
  DialectRouting,
  IsolationLevel,
  QueryResult,
  StatementOptions,
  StatementShape,
  TransactionConflict,
  TransactionOptions,
} from './dialect/dialect.js';
export {
  AcquireAbortedError,
  BatchInvalidError,
  CircuitOpenError,
  ConfigError,
  ConnectionLostError,
  ConnectTimeoutError,
  ERROR_CODES,
  type ErrorCode,
  InitializationError,
  LeakReclaimedError,
  LeaseReleasedError,
  LockTimeoutError,
  type Outcome,
  outcomeOf,
  PoolClosedError,
  PoolTimeoutError,
  QueryInvalidError,
  ReleasedTwiceError,
  ResultUnknownError,
  SpillwayError,
  type SpillwayErrorOptions,
  StatementTimeoutError,
  TlsError,
} from './errors.js';
export type { Alert, AlertType } from './observe/alerts.js';
export type { HealthCheckResult, HealthStatus } from './observe/health.js';
export type { LeakRecord, PerformanceSummary } from './observe/observability.js';
export type { PoolView } from './observe/pool-view.js';
export type { LatencySummary } from './observe/window.js';
export type { ConnectContext, Connector } from './pool/connector.js';
export type { CircuitState, PoolEventMap, PoolEventName } from './pool/events.js';
export type { LeakReport } from './pool/leak-detector.js';
export { Lease } from './pool/lease.js';
export type { AcquireOptions } from './pool/pool.js';
export type { CloseReason, PoolStats, PoolStatus } from './pool/status.js';
export type { BatchInsertOptions, BatchInsertResult, OnConflict } from './query/batch/batch-insert.js';
export type { BatchSelectOptions, BatchSelectResult } from './query/batch/batch-select.js';
export type { BatchUpdateOptions, BatchUpdateResult } from './query/batch/batch-update.js';
export type { LoaderOptions } from './query/loader.js';
export { type QueryInput, Session } from './query/session.js';
export { SqlFragment, SqlIdentifier, SqlJson, type SqlTag, sql } from './query/sql.js';
export type { CircuitSnapshot } from './resilience/circuit-breaker.js';
export type { RetryOptions, RetryReason } from './resilience/retry.js';
