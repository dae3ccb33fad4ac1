import { Counter, register as defaultRegistry, Gauge, type Registry } from 'prom-client';
import type { CircuitState } from '../pool/events.js';
import type { CloseReason, PoolStats, PoolStatus } from '../pool/status.js';
import { FastHistogram, type HistogramChild } from './fast-histogram.js';

/**
 * What the metrics read from one pool at scrape time. Statements, health checks and alerts belong to
 * the database rather than to one of its pools: only its primary pool's source has them.
 */
export interface MetricSource {
  readonly name: string;
  readonly minIdle: number;
  status(): PoolStatus;
  stats(): PoolStats;
  circuitState(): CircuitState;
  /** Health-check results by outcome since start. */
  healthChecks?(): Readonly<Record<string, number>>;
  /** Statement failures since start, the application's errors left out (other kinds come from stats()). */
  queryFailures?(): number;
  /** The application's statement errors since start, by kind (constraint_violation, data_exception). */
  applicationErrors?(): Readonly<Record<string, number>>;
  /** Alerts fired by type since start. */
  alerts?(): Readonly<Record<string, number>>;
  /** Plain statements the multiplexer ran pipelined (shared) or alone (exclusive) since start; undefined when it is off. */
  statements?(): { shared: number; exclusive: number } | undefined;
  /** Retries by reason since start (`retry` on db.query and db.transaction). */
  retries?(): Readonly<Record<string, number>>;
}

/** Histogram buckets (seconds) for database latencies: 0.5 ms to 30 s. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** Connection opening: TLS and authentication make it slower than a statement. */
export const CONNECT_BUCKETS_SECONDS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const CIRCUIT_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };
const CLOSE_REASONS: readonly CloseReason[] = ['recycled', 'idle', 'invalidated', 'overflow', 'error', 'closed'];

/**
 * The metric set of one registry, shared by every pool exporting into it (one series per `pool_name`).
 * Gauges and counters are read from the pools at scrape time (prom-client `collect`), so the pool's
 * hot path pays nothing for them; only the histograms are fed as things happen.
 */
class MetricSet {
  readonly sources = new Set<MetricSource>();
  readonly wait = new FastHistogram(
    'db_client_connection_wait_time_seconds',
    'Time to obtain a connection from the pool',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly use = new FastHistogram(
    'db_client_connection_use_time_seconds',
    'Time a connection was borrowed before being returned',
    LATENCY_BUCKETS_SECONDS,
  );
  readonly create = new FastHistogram('db_client_connection_create_time_seconds', 'Time to open a new connection', CONNECT_BUCKETS_SECONDS);
  readonly operation = new FastHistogram(
    'db_client_operation_duration_seconds',
    'Duration of database statements',
    LATENCY_BUCKETS_SECONDS,
  );

  constructor(registry: Registry) {
    const sources = this.sources;
    type Read = (s: MetricSource, add: (value: number, labels?: Record<string, string>) => void) => void;
    // Values come from the pools at scrape time. Reset-and-add (never set) sums pools that share a name
    // and drops the series of closed pools; counters stay monotonic because the pools' totals are.
    const collected =
      (Kind: typeof Gauge | typeof Counter) =>
      (name: string, help: string, read: Read, labelNames: string[] = []) =>
        new Kind({
          name,
          help,
          labelNames: ['pool_name', ...labelNames],
          registers: [registry],
          collect(this: { reset(): void; inc(labels: Record<string, string>, value: number): void }) {
            this.reset();
            for (const source of sources) read(source, (value, labels) => this.inc({ pool_name: source.name, ...labels }, value));
          },
        } as never);
    const gauge = collected(Gauge);
    const counter = collected(Counter);

    gauge(
      'db_client_connection_count',
      'Connections by state (idle: checked in; used: checked out)',
      (s, set) => {
        const status = s.status();
        set(status.checkedIn, { state: 'idle' });
        set(status.checkedOut, { state: 'used' });
      },
      ['state'],
    );
    gauge('db_client_connection_max', 'Most connections allowed (size + maxOverflow)', (s, set) => set(s.status().max));
    gauge('db_client_connection_idle_max', 'Most idle connections kept (size)', (s, set) => set(s.status().size));
    gauge('db_client_connection_idle_min', 'Idle connections kept warm (minIdle)', (s, set) => set(s.minIdle));
    gauge('db_client_connection_pending_requests', 'Callers waiting for a connection', (s, set) => set(s.status().waiting));
    gauge('spillway_connections_overflow', 'Connections above the pool size', (s, set) => set(s.status().overflow));
    gauge('spillway_circuit_state', 'Circuit breaker state (0 closed, 1 half-open, 2 open)', (s, set) =>
      set(CIRCUIT_VALUE[s.circuitState()]),
    );
    counter('db_client_connection_timeouts_total', 'Checkouts that timed out waiting for a connection', (s, add) =>
      add(s.stats().timeouts),
    );
    counter('spillway_connections_created_total', 'Connections opened', (s, add) => add(s.stats().created));
    counter(
      'spillway_connections_closed_total',
      'Connections closed, by reason',
      (s, add) => {
        const byReason = s.stats().closedByReason;
        for (const reason of CLOSE_REASONS) add(byReason[reason], { reason });
      },
      ['reason'],
    );
    counter('spillway_leaks_detected_total', 'Connections held past leakThresholdMs', (s, add) => add(s.stats().leaks));
    counter(
      'spillway_health_checks_total',
      'Background health checks, by result',
      (s, add) => {
        for (const [result, n] of Object.entries(s.healthChecks?.() ?? {})) add(n, { result });
      },
      ['result'],
    );
    counter(
      'spillway_retries_total',
      'Calls run again by their retry option, by reason (not_sent, serialization, deadlock, lock_timeout, unknown for idempotent calls)',
      (s, add) => {
        for (const [reason, n] of Object.entries(s.retries?.() ?? {})) add(n, { reason });
      },
      ['reason'],
    );
    counter(
      'spillway_operation_failures_total',
      'Failures by kind (query, connect, checkout_timeout, ping; constraint_violation and data_exception are statements the application got wrong, outside kind="query")',
      (s, add) => {
        const stats = s.stats();
        if (s.queryFailures !== undefined) add(s.queryFailures(), { kind: 'query' });
        for (const [kind, n] of Object.entries(s.applicationErrors?.() ?? {})) add(n, { kind });
        add(stats.connectFailures, { kind: 'connect' });
        add(stats.timeouts, { kind: 'checkout_timeout' });
        add(stats.pingFailures, { kind: 'ping' });
      },
      ['kind'],
    );
    counter(
      'spillway_statements_total',
      'Plain statements run by the multiplexer, by mode (shared: pipelined with others; exclusive: alone on a connection)',
      (s, add) => {
        const statements = s.statements?.();
        if (statements === undefined) return;
        add(statements.shared, { mode: 'shared' });
        add(statements.exclusive, { mode: 'exclusive' });
      },
      ['mode'],
    );
    counter(
      'spillway_alerts_total',
      'Alerts fired, by type',
      (s, add) => {
        for (const [type, n] of Object.entries(s.alerts?.() ?? {})) add(n, { type });
      },
      ['type'],
    );
    for (const histogram of [this.wait, this.use, this.create, this.operation]) registry.registerMetric(histogram as never);
  }
}

const SETS = new WeakMap<Registry, MetricSet>();

/** The histogram children one pool feeds; `detach()` when the pool closes. */
export interface PoolMetrics {
  readonly registry: Registry;
  readonly wait: HistogramChild;
  readonly use: HistogramChild;
  readonly create: HistogramChild;
  readonly operation: HistogramChild;
  detach(): void;
}

/**
 * Export one pool's metrics into `registry` (prom-client's default registry when omitted). Metric names
 * follow the OpenTelemetry database-client conventions in Prometheus form, each with `pool_name`.
 */
export function registerPoolMetrics(source: MetricSource, registry: Registry = defaultRegistry): PoolMetrics {
  let set = SETS.get(registry);
  if (set === undefined) {
    set = new MetricSet(registry);
    SETS.set(registry, set);
  }
  const metricSet = set;
  metricSet.sources.add(source);
  return {
    registry,
    wait: metricSet.wait.child(source.name),
    use: metricSet.use.child(source.name),
    create: metricSet.create.child(source.name),
    operation: metricSet.operation.child(source.name),
    detach() {
      if (!metricSet.sources.delete(source)) return;
      // Pools may share a name; keep the histograms while one of them is still exporting.
      for (const other of metricSet.sources) if (other.name === source.name) return;
      for (const histogram of [metricSet.wait, metricSet.use, metricSet.create, metricSet.operation]) histogram.remove(source.name);
    },
  };
}
