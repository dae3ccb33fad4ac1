import type { Clock } from './clock.js';
import type { PoolEntry } from './entry.js';

/** The settings the core needs; a subset of the resolved configuration (durations in ms). */
export interface CorePoolSettings {
  name: string;
  size: number;
  maxOverflow: number;
  minIdle: number;
  checkoutTimeoutMs: number;
  recycleMs: number;
  idleTimeoutMs: number;
  prePing: boolean;
  prePingBypassMs: number;
  connectTimeoutMs: number;
  maxUses: number;
  housekeepingIntervalMs: number;
  /**
   * Replace connect attempts that hang while callers wait (see ConnectionOpener). On unless `false`: a drop-in
   * pool whose original opens exactly one connection per attempt (pg.Pool) turns it off.
   */
  hedgeConnects?: boolean;
  /**
   * A connection being closed keeps its slot until its socket is gone, so the server never sees more
   * than max connections from this pool. On unless `false`: pg.Pool frees the slot as the close begins
   * (its counters and the next connect do not wait for the goodbye), and its drop-in does the same;
   * status().total may then exceed max by the connections still closing.
   */
  closingHoldsSlot?: boolean;
}

export interface AcquireOptions {
  /** Abort the wait (ACQUIRE_ABORTED). */
  signal?: AbortSignal;
  /** Overrides checkoutTimeoutMs for this call. */
  timeoutMs?: number;
  /**
   * A checkout Spillway makes for itself (the background health check): its checkout and timeout
   * events say `internal: true`, so wait statistics describe callers' waits alone.
   */
  internal?: boolean;
  /**
   * A carrier lease for statements the gate already admitted one by one (the multiplexer admits each
   * statement it takes): admitting its borrowing again would count them twice, and while the circuit
   * breaker is half-open it would refuse the trial's own connection, so the trial never reports and
   * the breaker stays half-open. Connect outcomes still reach the gate. Such a lease carries other
   * callers' statements, each reported with its own checkout/checkin event (`shared: true`), so the
   * lease itself emits none: metrics would otherwise count every statement's wait twice and read the
   * carrier's hold time as one long use.
   */
  shared?: boolean;
}

/**
 * Hooks that let the resilience and leak layers take part in checkouts without the core knowing them.
 * Every hook is optional; with none set, the hot path checks one undefined field.
 */
export interface PoolGate {
  /**
   * Called before each checkout, on the caller's stack; throw (CIRCUIT_OPEN) to refuse it. What it
   * returns is handed to `lent` with the entry (leak detection's call-site trace).
   */
  admit?(): unknown;
  /**
   * Called before the multiplexer takes a statement, on the caller's stack; throw to refuse it. No
   * connection is lent to that caller, so there is nothing to trace (leak detection's capture is
   * skipped). Unset: `admit` serves, its result unused.
   */
  admitShared?(): void;
  /** Called after each connect attempt with its outcome; `startedAt` is when the attempt began (performance.now()). */
  connectResult?(error: unknown | undefined, startedAt: number): void;
  /**
   * Called by the query layer after a statement: `undefined` when the server answered, the error when
   * the connection broke (never for SQL errors). Lets the circuit breaker see query-level outages.
   */
  statementResult?(error: unknown | undefined, startedAt: number): void;
  /** Called when an entry is lent, with what `admit` returned for that checkout. */
  lent?(entry: PoolEntry<unknown>, context: unknown): void;
}

/** What a pool is born with besides its connector and settings; `P` is the pool (ConnectionPool). */
export interface PoolGateOptions<P> {
  /**
   * Builds the gate (see {@link PoolGate}) from the pool under construction: the resilience layer's
   * breaker and leak detector take part in every checkout from the first, and nothing is attached later.
   */
  gate?: (pool: P) => PoolGate | undefined;
  /** Time and timers (default: the system's); tests pass a manual clock and step it. */
  clock?: Clock;
}
