import type { ResolvedConfig } from '../config/options.js';
import type { CircuitState } from '../pool/events.js';
import { LeakDetector, type LeakWarn } from '../pool/leak-detector.js';
import type { ConnectionPool, PoolGate } from '../pool/pool.js';
import { BreakerProbe } from './breaker-probe.js';
import { CircuitBreaker, type CircuitSnapshot } from './circuit-breaker.js';

export type ResilienceConfig = Pick<ResolvedConfig, 'circuit' | 'leakThresholdMs' | 'leakAction'> & {
  leakStackTraces?: 'adaptive' | 'always';
};

export interface ResilienceOptions {
  /** Where leak warnings go (default: process.emitWarning). */
  warn?: LeakWarn;
  /** False: no circuit breaker (a drop-in pool whose original has none, until the user opts in). */
  breaker?: boolean;
}

/**
 * The circuit breaker (with its background probe while open) and the leak detector of one pool, and
 * the gate through which they take part in its checkouts. Built by the pool's constructor (its `gate`
 * option), so a pool is never without them and nothing is attached afterwards:
 *
 * @example
 * let resilience: Resilience | undefined;
 * const pool = new ConnectionPool(connector, settings, {
 *   gate: (p) => (resilience = new Resilience(p, config, isDisconnect)).gate,
 * });
 *
 * `isConnectivityFailure` is the dialect's judgement: only disconnects, refusals and timeouts count
 * against the breaker, never SQL errors. The breaker is the one source of the circuit state: health,
 * metrics and the endpoints read {@link snapshot}, nothing mirrors it from events.
 */
export class Resilience {
  readonly breaker: CircuitBreaker | undefined;
  readonly leaks: LeakDetector | undefined;
  /** Undefined when there is nothing to take part (no breaker, no leak detection): checkouts take the fast path. */
  readonly gate: PoolGate | undefined;

  constructor(
    corePool: ConnectionPool<unknown>,
    config: ResilienceConfig,
    isConnectivityFailure: (error: unknown) => boolean,
    options: ResilienceOptions = {},
  ) {
    const pool = corePool;
    const leaks = config.leakThresholdMs > 0 ? new LeakDetector(pool, config, options.warn) : undefined;
    this.leaks = leaks;
    if (options.breaker === false) {
      this.breaker = undefined;
      this.gate = leaks === undefined ? undefined : { admit: () => leaks.capture(), lent: (entry, trace) => leaks.lent(entry, trace) };
      leaks?.start();
      return;
    }
    let probe: BreakerProbe | undefined;
    const breaker = new CircuitBreaker(
      pool.name,
      config.circuit,
      (from: CircuitState, to: CircuitState) => {
        probe?.onStateChange(to);
        pool.emit('circuit', { from, to });
      },
      () => pool.clock.now(),
    );
    this.breaker = breaker;
    probe = new BreakerProbe(pool, breaker, config.circuit.recoveryTimeoutMs);
    const report = (error: unknown | undefined, startedAt: number): void => {
      if (error === undefined) breaker.success(startedAt);
      else if (isConnectivityFailure(error)) breaker.failure(error, startedAt);
    };
    const admit = (): void => breaker.admit();
    this.gate =
      leaks === undefined
        ? { admit, admitShared: admit, connectResult: report, statementResult: report }
        : {
            // The call site must be taken on the caller's stack (admit), not when a queued waiter is served.
            admit: () => {
              breaker.admit();
              return leaks.capture();
            },
            admitShared: admit,
            connectResult: report,
            statementResult: report,
            lent: (entry, trace) => leaks.lent(entry, trace),
          };
    leaks?.start();
  }

  /** The breaker's state for health(), metrics and the endpoints; undefined without a breaker. */
  snapshot(): CircuitSnapshot | undefined {
    return this.breaker?.snapshot();
  }

  /** The circuit state, 'closed' without a breaker. */
  get state(): CircuitState {
    return this.breaker?.state ?? 'closed';
  }
}
