import { performance } from 'node:perf_hooks';
import { DEFAULT_ALERT_THRESHOLDS } from '../config/observe-options.js';
import type { ResolvedConfig } from '../config/options.js';
import { redactUrlsIn } from '../config/url.js';
import type { Dialect } from '../dialect/dialect.js';
import type { CircuitState } from '../pool/events.js';
import type { ConnectionPool } from '../pool/pool.js';
import type { PoolStatus } from '../pool/status.js';
import type { Alert } from './alerts.js';
import type { PoolView } from './pool-view.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** One health check: a ping through the pool. `busy`: no connection was free in time (not a database failure). */
export interface HealthCheckResult {
  /** ISO time of the check. */
  at: string;
  result: 'success' | 'failure' | 'busy';
  latencyMs: number | undefined;
  /** Share of max connections in use when the check started (0..1). */
  utilization: number;
  error?: string;
}

/** What `db.health()` returns. */
export interface HealthReport {
  status: HealthStatus;
  /** Round trip of the ping, including the checkout; undefined when it failed. */
  latencyMs: number | undefined;
  dialect: string;
  pool: PoolStatus;
  /** checkedOut / max (0..1) when the check started. */
  utilization: number;
  /** Utilization stayed above the threshold (this check and the one before). */
  utilizationHigh: boolean;
  /** The worst circuit state among the database's pools. */
  circuit: CircuitState;
  alerts: { active: Alert[]; recent: Alert[] };
  /** Every pool the database owns (primary first; SQLite's writer too), each with its status and counters. */
  pools: PoolView[];
  /** Why the status is not healthy (empty when healthy). */
  reasons: string[];
  consecutiveFailures: number;
  checkedAt: string;
  error?: string;
}

/** The pool as the health monitor needs it (a Database fits). */
export interface HealthTarget {
  readonly pool: ConnectionPool<unknown>;
  readonly dialect: Dialect;
  readonly config: ResolvedConfig;
}

/** What the rest of observability adds to a health judgement. */
export interface HealthHooks {
  circuitState(): CircuitState;
  /** Reasons to call the pool degraded beyond utilization: slow statements or checkouts, leaks. */
  degradedReasons(): string[];
  alerts(): { active: Alert[]; recent: Alert[] };
  /** The views of every pool the database owns. */
  pools(): PoolView[];
  /** Called with every report, after it is judged (alerts are evaluated here). */
  reported(report: HealthReport): void;
}

const NO_HOOKS: HealthHooks = {
  circuitState: () => 'closed',
  degradedReasons: () => [],
  alerts: () => ({ active: [], recent: [] }),
  pools: () => [],
  reported: () => undefined,
};

const HISTORY_LIMIT = 60;
const PING_TIMEOUT_MS = 5000;

/**
 * Health checks of one pool: a ping through the pool (on demand, and in the background every
 * `healthCheckIntervalMs` on an unref'd timer), a bounded history, consecutive failures, and the status:
 * `unhealthy` when pings fail repeatedly or the breaker is open; `degraded` when utilization stays above
 * the threshold, statements or checkouts are slow, leaks are present, or a single ping failed; else `healthy`.
 */
export class HealthMonitor {
  readonly #target: HealthTarget;
  readonly #hooks: HealthHooks;
  readonly #unhealthyAfter: number;
  readonly #usageThreshold: number;
  readonly #history: HealthCheckResult[] = [];
  readonly #counts: Record<HealthCheckResult['result'], number> = { success: 0, failure: 0, busy: 0 };
  #consecutiveFailures = 0;
  #last: HealthReport | undefined = undefined;
  #running: Promise<HealthReport> | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(target: HealthTarget, hooks: HealthHooks = NO_HOOKS) {
    this.#target = target;
    this.#hooks = hooks;
    const thresholds = target.config.alerts ?? DEFAULT_ALERT_THRESHOLDS;
    this.#unhealthyAfter = Math.max(1, thresholds.unhealthyAfterFailures);
    this.#usageThreshold = thresholds.poolUsage;
  }

  /** Start background checks every `intervalMs` (0: none). The timer never keeps the process alive. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (!this.#target.pool.closed) this.check().catch(() => undefined);
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Run a check now; concurrent callers share one ping. */
  check(): Promise<HealthReport> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The last report, if a check has run. */
  get last(): HealthReport | undefined {
    return this.#last;
  }

  /** Past checks, oldest first (bounded). */
  history(): HealthCheckResult[] {
    return this.#history.map((h) => ({ ...h }));
  }

  get consecutiveFailures(): number {
    return this.#consecutiveFailures;
  }

  /** Checks by result since start. */
  counts(): Readonly<Record<string, number>> {
    return this.#counts;
  }

  /** Ping only, without judging the pool (for /health/database). */
  async ping(): Promise<{ ok: boolean; latencyMs: number | undefined; error?: string }> {
    const result = await this.#ping();
    return { ok: result.result === 'success', latencyMs: result.latencyMs, ...(result.error === undefined ? {} : { error: result.error }) };
  }

  async #ping(): Promise<{ result: HealthCheckResult['result']; latencyMs: number | undefined; error?: string }> {
    const { pool, dialect, config } = this.#target;
    const started = performance.now();
    try {
      // internal: this checkout is the pool's own, not a caller's wait (left out of the wait statistics).
      const lease = await pool.acquire({
        timeoutMs: Math.min(config.checkoutTimeoutMs, PING_TIMEOUT_MS) || PING_TIMEOUT_MS,
        internal: true,
      });
      try {
        await dialect.connector.ping(lease.connection);
        lease.release();
      } catch (error) {
        lease.release(error);
        throw error;
      }
      return { result: 'success', latencyMs: Math.round((performance.now() - started) * 1000) / 1000 };
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      const message = redactUrlsIn(error instanceof Error ? error.message : String(error));
      return { result: code === 'POOL_TIMEOUT' ? 'busy' : 'failure', latencyMs: undefined, error: message };
    }
  }

  async #check(): Promise<HealthReport> {
    const { pool, dialect } = this.#target;
    const before = pool.status();
    const utilization = before.max === 0 ? 0 : before.checkedOut / before.max;
    const outcome = await this.#ping();
    const previous = this.#history.at(-1);
    const at = new Date().toISOString();
    this.#counts[outcome.result]++;
    if (outcome.result === 'failure') this.#consecutiveFailures++;
    else if (outcome.result === 'success') this.#consecutiveFailures = 0;
    this.#history.push({
      at,
      result: outcome.result,
      latencyMs: outcome.latencyMs,
      utilization,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();

    const circuit = this.#hooks.circuitState();
    const unhealthy: string[] = [];
    const degraded: string[] = [];
    if (circuit === 'open') unhealthy.push('circuit breaker is open');
    if (this.#consecutiveFailures >= this.#unhealthyAfter) unhealthy.push(`${this.#consecutiveFailures} consecutive health checks failed`);
    else if (outcome.result === 'failure')
      degraded.push(`health check failed (${this.#consecutiveFailures} of ${this.#unhealthyAfter} before unhealthy)`);
    if (outcome.result === 'busy') degraded.push('no connection was free for the health check');
    // "Stays above": this check and the one before it (or this one alone when it is the first).
    const usageHigh = utilization > this.#usageThreshold && (previous === undefined || previous.utilization > this.#usageThreshold);
    if (usageHigh) degraded.push(`pool utilization ${Math.round(utilization * 100)}% above ${Math.round(this.#usageThreshold * 100)}%`);
    degraded.push(...this.#hooks.degradedReasons());

    const status: HealthStatus = unhealthy.length > 0 ? 'unhealthy' : degraded.length > 0 ? 'degraded' : 'healthy';
    const report: HealthReport = {
      status,
      latencyMs: outcome.latencyMs,
      dialect: dialect.name,
      pool: pool.status(),
      utilization,
      utilizationHigh: usageHigh,
      circuit,
      alerts: { active: [], recent: [] },
      pools: this.#hooks.pools(),
      reasons: [...unhealthy, ...degraded],
      consecutiveFailures: this.#consecutiveFailures,
      checkedAt: at,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
    this.#hooks.reported(report);
    report.alerts = this.#hooks.alerts();
    this.#last = report;
    return report;
  }
}
