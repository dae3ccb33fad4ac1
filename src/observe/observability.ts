import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { AlertThresholds } from '../config/observe-options.js';
import type { ResolvedConfig } from '../config/options.js';
import type { DatabasePool, PoolObservers } from '../database-pool.js';
import type { Dialect, StatementFailureKind, StatementMultiplexer, StatementShape } from '../dialect/dialect.js';
import type { PoolEventMap } from '../pool/events.js';
import type { ConnectionPool } from '../pool/pool.js';
import type { PoolStatus } from '../pool/status.js';
import type { QueryObserver } from '../query/observer.js';
import { RETRY_REASONS, type RetryReason } from '../resilience/retry.js';
import { AlertManager } from './alerts.js';
import { HealthMonitor, type HealthReport } from './health.js';
import { attachLogger } from './logging.js';
import { type PoolMetrics, registerPoolMetrics } from './metrics.js';
import { poolView, worstCircuit } from './pool-view.js';
import { StatementTracer } from './tracing.js';
import { type LatencySummary, LatencyWindow } from './window.js';

/** A leak as reported by the pool's `leak` event, kept for /health/detailed. */
export interface LeakRecord {
  /** The pool it leaked from (a SQLite database's writer is `<name>:writer`). */
  pool: string;
  connectionId: number;
  heldMs: number;
  stack: string | undefined;
  /** Epoch ms. */
  at: number;
}

/** Percentiles and failure rates over the sliding window: what /metrics/performance/summary serves. */
export interface PerformanceSummary {
  pool: string;
  windowMs: number;
  checkoutWaitMs: LatencySummary;
  queryMs: LatencySummary;
  failureRates: { query: number; checkout: number };
  /**
   * Counters since `since`, for rates (the dashboard's throughput chart): statements run and failed,
   * and connections handed out to callers (a multiplexed statement is one; health checks are left out).
   * `queryFailures` leaves out the application's errors, counted in `applicationErrors`.
   */
  totals: {
    queries: number;
    queryFailures: number;
    checkouts: number;
    applicationErrors: Readonly<Record<ApplicationErrorKind, number>>;
  };
  /** When these figures began: the pool's start or its last `resetStats()` (ISO 8601). */
  since: string;
  /**
   * With multiplexing on: plain statements run pipelined (shared) or alone (exclusive) since the pool
   * started (resetStats() leaves them, like the Prometheus counters),
   * and the statement shapes that kept connections busy longest (see docs/multiplexing.md).
   */
  multiplexer?: MultiplexerSummary;
}

/** The multiplexer's part of {@link PerformanceSummary}. */
export interface MultiplexerSummary {
  statements: { shared: number; exclusive: number };
  shapes: StatementShape[];
}

/** Shapes listed in the performance summary. */
const SHAPES_SHOWN = 10;

/** Plain statements the multiplexer ran shared and exclusive since start, or undefined when the pool does not multiplex. */
function statementsByMode(multiplexer: StatementMultiplexer | undefined): MultiplexerSummary['statements'] | undefined {
  const status = multiplexer?.status;
  return status === undefined ? undefined : { shared: status.sharedRuns, exclusive: status.exclusiveRuns };
}

/** Statement errors that are the application's business (see StatementFailureKind). */
export type ApplicationErrorKind = Exclude<StatementFailureKind, 'failure'>;

/** A statement in flight when tracing is on: start time plus its span. */
interface TracedStatement {
  start: number;
  span: Span;
}

const LEAK_LIMIT = 20;

const ms = (value: number): string => `${Math.round(value)}ms`;

/** What the summary's totals start from after resetStats(). */
interface TotalsBaseline {
  queries: number;
  queryFailures: number;
  checkouts: number;
  constraintViolations: number;
  dataExceptions: number;
  leaks: number;
}

/**
 * Everything that watches one database's pools: metrics, percentiles, health checks, alerts, tracing,
 * logs. Each pool is watched from its constructor ({@link PoolObservers}): it subscribes to that
 * pool's events and exports that pool's series (`pool_name` is the pool's name, `<name>:writer` for
 * SQLite's writer). It is also the query layer's observer; it never sits inside a pool. With metrics
 * and tracing off it is not the observer at all, and the pools build no checkout events.
 */
export class Observability implements QueryObserver, PoolObservers {
  readonly health: HealthMonitor;
  readonly alerts: AlertManager;
  readonly thresholds: Readonly<AlertThresholds>;
  /** Retries by reason since start (`retry` on db.query and db.transaction): `spillway_retries_total{reason}`. */
  readonly retryCounts: Record<RetryReason, number> = Object.fromEntries(RETRY_REASONS.map((r) => [r, 0])) as Record<RetryReason, number>;
  readonly #config: ResolvedConfig;
  readonly #tracer: StatementTracer | undefined;
  readonly #pools: DatabasePool[] = [];
  readonly #metrics = new Map<DatabasePool, PoolMetrics>();
  #operation: PoolMetrics['operation'] | undefined = undefined;
  readonly #checkouts = new LatencyWindow();
  readonly #queries = new LatencyWindow();
  readonly #leaks: LeakRecord[] = [];
  #queryCount = 0;
  /** Since start, never reset: spillway_operation_failures_total{kind="query"} reads it. */
  #queryFailures = 0;
  #checkoutCount = 0;
  /** Since start, never reset: spillway_operation_failures_total{kind} reads it. */
  readonly #applicationErrors: Record<ApplicationErrorKind, number> = { constraint_violation: 0, data_exception: 0 };
  /** The counts at the last resetStats(), which the summary's totals start from. */
  #totalsBaseline: TotalsBaseline = { queries: 0, queryFailures: 0, checkouts: 0, constraintViolations: 0, dataExceptions: 0, leaks: 0 };
  #since = Date.now();
  #rotator: NodeJS.Timeout | undefined = undefined;
  #stopped = false;

  constructor(config: ResolvedConfig, dialect: Dialect) {
    this.#config = config;
    this.thresholds = config.alerts;
    // Alerts are the database's: emitted once, on its primary pool (db.on('alert') listens there).
    this.alerts = new AlertManager(config.alerts.cooldownMs, (alert) => this.#primary()?.pool.emit('alert', alert));
    const pools = this.#pools;
    this.health = new HealthMonitor(
      {
        // The database answers through its primary pool; the others are judged from their state.
        get pool(): ConnectionPool<unknown> {
          return (pools[0] as DatabasePool).pool;
        },
        dialect,
        config,
      },
      {
        circuitState: () => worstCircuit(this.#pools),
        degradedReasons: () => this.#degradedReasons(),
        alerts: () => ({ active: this.alerts.active(), recent: this.alerts.recent() }),
        pools: () => this.#pools.map(poolView),
        reported: (report) => this.#evaluate(report),
      },
    );
    this.#tracer = config.tracing.enabled ? new StatementTracer(config, dialect, config.tracing.tracerProvider) : undefined;
    if (config.metrics.enabled) {
      this.#rotator = setInterval(() => {
        this.#checkouts.rotate();
        this.#queries.rotate();
      }, config.alerts.windowMs / LatencyWindow.SLICES);
      this.#rotator.unref();
    }
  }

  /** Whether the query layer should report to this object. */
  get observing(): boolean {
    return this.#config.metrics.enabled || this.#tracer !== undefined;
  }

  /** The pools watched, primary first. */
  get pools(): readonly DatabasePool[] {
    return this.#pools;
  }

  /** The prom-client registry the pools export into (undefined when metrics are off). */
  get registry() {
    return this.#metrics.values().next().value?.registry;
  }

  // ---- PoolObservers (called by each DatabasePool's constructor) -------------------------------

  watch(dbPool: DatabasePool): () => void {
    const config = this.#config;
    const pool = dbPool.pool;
    const primary = this.#pools.length === 0;
    this.#pools.push(dbPool);
    const cleanup: (() => void)[] = [];
    const listen = <K extends keyof PoolEventMap>(event: K, fn: (...args: PoolEventMap[K]) => void): void => {
      pool.on(event, fn);
      cleanup.push(() => pool.off(event, fn));
    };
    listen('circuit', () =>
      this.alerts.condition('circuit_open', worstCircuit(this.#pools) === 'open', `circuit breaker of pool "${pool.name}" is open`),
    );
    listen('leak', (event) => {
      this.#leaks.push({ pool: pool.name, connectionId: event.connectionId, heldMs: event.heldMs, stack: event.stack, at: Date.now() });
      if (this.#leaks.length > LEAK_LIMIT) this.#leaks.shift();
      this.alerts.event('connection_leak', `pool "${pool.name}": connection ${event.connectionId} held for ${ms(event.heldMs)}`);
    });
    if (config.logger !== undefined) cleanup.push(attachLogger(pool, config.logger));
    if (config.metrics.enabled) {
      const metrics = registerPoolMetrics(
        {
          name: pool.name,
          minIdle: pool.settings.minIdle,
          status: () => pool.status(),
          stats: () => pool.stats(),
          circuitState: () => dbPool.circuitState,
          // Statements, health checks and alerts are the database's: counted once, on its primary pool.
          ...(primary
            ? {
                healthChecks: () => this.health.counts(),
                queryFailures: () => this.#queryFailures,
                applicationErrors: () => this.#applicationErrors,
                alerts: () => this.alerts.counts(),
                statements: () => statementsByMode(dbPool.multiplexer),
                retries: () => this.retryCounts,
              }
            : {}),
        },
        config.metrics.registry,
      );
      this.#metrics.set(dbPool, metrics);
      // Statement durations go to the primary pool's series (statements are the database's); kept in
      // a field, since every statement reads it.
      if (primary) this.#operation = metrics.operation;
      cleanup.push(() => metrics.detach());
      // The background health check's own checkouts are left out: on an idle pool they were the only
      // ones, so their waits (a pre-ping after a long idle) read as callers waiting for connections.
      listen('checkout', (event) => {
        if (event.internal) return;
        this.#checkoutCount++;
        metrics.wait.observe(event.waitMs / 1000);
        this.#checkouts.record(event.waitMs);
      });
      listen('checkin', (event) => metrics.use.observe(event.heldMs / 1000));
      listen('connect', (event) => metrics.create.observe(event.durationMs / 1000));
      listen('timeout', (event) => {
        if (!event.internal) this.#checkouts.record(event.waitMs, true);
      });
    }
    if (primary) this.health.start(config.healthCheckIntervalMs);
    return () => {
      for (const fn of cleanup.splice(0)) fn();
    };
  }

  // ---- QueryObserver (called by src/database.ts and Session) ------------------------------------

  checkoutStart(pool?: string): unknown {
    const tracer = this.#tracer;
    return tracer?.active ? tracer.startCheckout(pool) : undefined;
  }

  checkoutEnd(token: unknown, error: unknown): void {
    if (token !== undefined) StatementTracer.end(token as Span, error);
  }

  queryStart(text: string): unknown {
    const start = performance.now();
    const tracer = this.#tracer;
    if (tracer === undefined || !tracer.active) return start;
    return { start, span: tracer.startStatement(text) } satisfies TracedStatement;
  }

  queryEnd(token: unknown, error: unknown, failure?: StatementFailureKind): void {
    const traced = typeof token === 'number' ? undefined : (token as TracedStatement);
    const elapsed = performance.now() - (traced === undefined ? (token as number) : traced.start);
    // A constraint violation or data exception is the application's error, not the database's
    // health: counted apart, never toward the failure rate (its alert and health's "degraded").
    const failed = error !== undefined && (failure === undefined || failure === 'failure');
    this.#queryCount++;
    if (failed) this.#queryFailures++;
    else if (error !== undefined) this.#applicationErrors[failure as ApplicationErrorKind]++;
    const operation = this.#operation;
    if (operation !== undefined) {
      operation.observe(elapsed / 1000);
      this.#queries.record(elapsed, failed);
    }
    if (traced !== undefined) StatementTracer.end(traced.span, error);
  }

  // ---- views for the endpoints --------------------------------------------------------------------

  /** Checkout-wait and statement-time percentiles plus failure rates over the sliding window. */
  performance(): PerformanceSummary {
    const checkoutWaitMs = this.#checkouts.summary();
    const queryMs = this.#queries.summary();
    return {
      pool: this.#config.name,
      windowMs: this.thresholds.windowMs,
      checkoutWaitMs,
      queryMs,
      failureRates: {
        query: queryMs.count === 0 ? 0 : this.#queries.failures / queryMs.count,
        checkout: checkoutWaitMs.count === 0 ? 0 : this.#checkouts.failures / checkoutWaitMs.count,
      },
      totals: {
        queries: this.#queryCount - this.#totalsBaseline.queries,
        queryFailures: this.#queryFailures - this.#totalsBaseline.queryFailures,
        checkouts: this.#checkoutCount - this.#totalsBaseline.checkouts,
        applicationErrors: {
          constraint_violation: this.#applicationErrors.constraint_violation - this.#totalsBaseline.constraintViolations,
          data_exception: this.#applicationErrors.data_exception - this.#totalsBaseline.dataExceptions,
        },
      },
      since: new Date(this.#since).toISOString(),
      ...this.multiplexerSummary(),
    };
  }

  /** The summary's `multiplexer` field, present only when the primary pool multiplexes. */
  multiplexerSummary(): { multiplexer?: MultiplexerSummary } {
    const multiplexer = this.#primary()?.multiplexer;
    const statements = statementsByMode(multiplexer);
    if (statements === undefined) return {};
    return { multiplexer: { statements, shapes: (multiplexer as StatementMultiplexer).shapes(SHAPES_SHOWN) } };
  }

  /**
   * Empty the summary's windows (percentiles, failure rates) and start its totals over (db.resetStats()).
   * Prometheus' counters and histograms are left alone: they must only grow, or rate() reads a reset as
   * a crash of the exporter.
   */
  resetWindows(at = Date.now()): void {
    this.#checkouts.reset();
    this.#queries.reset();
    this.#totalsBaseline = {
      queries: this.#queryCount,
      queryFailures: this.#queryFailures,
      checkouts: this.#checkoutCount,
      constraintViolations: this.#applicationErrors.constraint_violation,
      dataExceptions: this.#applicationErrors.data_exception,
      leaks: this.#leakTotal(),
    };
    this.#since = at;
  }

  /** Recent leaks of every pool (newest last) and the total since start (or the last resetStats()). */
  leaks(): { total: number; recent: LeakRecord[] } {
    return { total: this.#leakTotal() - this.#totalsBaseline.leaks, recent: this.#leaks.map((l) => ({ ...l })) };
  }

  /** Stop the background work and the subscriptions (called by db.close()). Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.health.stop();
    if (this.#rotator !== undefined) clearInterval(this.#rotator);
    for (const pool of this.#pools) pool.unwatch();
  }

  // ---- internals ----------------------------------------------------------------------------------

  #primary(): DatabasePool | undefined {
    return this.#pools[0];
  }

  #leakTotal(): number {
    let total = 0;
    for (const pool of this.#pools) total += pool.pool.stats().leaks;
    return total;
  }

  #degradedReasons(): string[] {
    const reasons: string[] = [];
    const perf = this.performance();
    const t = this.thresholds;
    if (perf.queryMs.count > 0 && perf.queryMs.p95 > t.slowQueryMs)
      reasons.push(`statements slow: p95 ${ms(perf.queryMs.p95)} above ${ms(t.slowQueryMs)}`);
    if (perf.checkoutWaitMs.count > 0 && perf.checkoutWaitMs.p95 > t.slowCheckoutMs)
      reasons.push(`checkouts slow: p95 wait ${ms(perf.checkoutWaitMs.p95)} above ${ms(t.slowCheckoutMs)}`);
    if (this.#failureRateHigh(perf))
      reasons.push(`statement failure rate ${(perf.failureRates.query * 100).toFixed(1)}% above ${t.queryFailureRate * 100}%`);
    const since = Date.now() - t.windowMs;
    const recentLeaks = this.#leaks.filter((l) => l.at >= since).length;
    if (recentLeaks > 0) reasons.push(`${recentLeaks} connection leak(s) in the last ${Math.round(t.windowMs / 1000)}s`);
    return reasons;
  }

  #failureRateHigh(perf: PerformanceSummary): boolean {
    return perf.queryMs.count >= this.thresholds.minQueries && perf.failureRates.query > this.thresholds.queryFailureRate;
  }

  /** Alert conditions, judged after each health check. */
  #evaluate(report: HealthReport): void {
    const perf = this.performance();
    const t = this.thresholds;
    const status: PoolStatus = report.pool;
    this.alerts.condition('database_unhealthy', report.status === 'unhealthy', `database unhealthy: ${report.reasons.join('; ')}`);
    this.alerts.condition('circuit_open', report.circuit === 'open', 'circuit breaker is open');
    this.alerts.condition(
      'query_failure_rate',
      this.#failureRateHigh(perf),
      `statement failure rate ${(perf.failureRates.query * 100).toFixed(1)}% over the last ${Math.round(t.windowMs / 1000)}s`,
    );
    this.alerts.condition(
      'pool_usage_high',
      report.utilizationHigh,
      `pool usage ${Math.round(report.utilization * 100)}% (${status.checkedOut} of ${status.max}, ${status.waiting} waiting)`,
    );
    this.alerts.condition(
      'slow_queries',
      perf.queryMs.count > 0 && perf.queryMs.p95 > t.slowQueryMs,
      `statement p95 ${ms(perf.queryMs.p95)}`,
    );
    this.alerts.condition(
      'slow_checkouts',
      perf.checkoutWaitMs.count > 0 && perf.checkoutWaitMs.p95 > t.slowCheckoutMs,
      `checkout wait p95 ${ms(perf.checkoutWaitMs.p95)}`,
    );
  }
}
