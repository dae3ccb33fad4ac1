import type { ResolvedConfig } from '../config/options.js';
import type { CircuitState } from '../pool/events.js';
import { LeakDetector, type LeakWarn } from '../pool/leak-detector.js';
import type { ConnectionPool, PoolGate } from '../pool/pool.js';
import { BreakerProbe } from './breaker-probe.js';
import { CircuitBreaker, type CircuitSnapshot } from './circuit-breaker.js';

const breakers = new WeakMap<ConnectionPool<unknown>, CircuitBreaker>();

type ResilienceConfig = Pick<ResolvedConfig, 'circuit' | 'leakThresholdMs' | 'leakAction'> & { leakStackTraces?: 'adaptive' | 'always' };

/**
 * Attach the circuit breaker (with its background probe while open) and (when `leakThresholdMs` > 0) the leak detector to a pool through its
 * gate. `isConnectivityFailure` is the dialect's judgement: only disconnects, refusals and timeouts
 * count against the breaker, never SQL errors.
 */
export function attachResilience<C>(
  corePool: ConnectionPool<C>,
  config: ResilienceConfig,
  isConnectivityFailure: (error: unknown) => boolean,
  options?: { warn?: LeakWarn; breaker?: true },
): { breaker: CircuitBreaker; leaks: LeakDetector | undefined };
/** `breaker: false`: leak detection only, for a drop-in pool whose original has no breaker (spillway/pg). */
export function attachResilience<C>(
  corePool: ConnectionPool<C>,
  config: ResilienceConfig,
  isConnectivityFailure: (error: unknown) => boolean,
  options: { warn?: LeakWarn; breaker: boolean },
): { breaker: CircuitBreaker | undefined; leaks: LeakDetector | undefined };
export function attachResilience<C>(
  corePool: ConnectionPool<C>,
  config: ResilienceConfig,
  isConnectivityFailure: (error: unknown) => boolean,
  options: { warn?: LeakWarn; breaker?: boolean } = {},
): { breaker: CircuitBreaker | undefined; leaks: LeakDetector | undefined } {
  const pool = corePool as unknown as ConnectionPool<unknown>; // the detector never touches connections
  if (options.breaker === false) return { breaker: undefined, leaks: attachLeakDetection(pool, config, options.warn) };
  let probe: BreakerProbe | undefined;
  const breaker = new CircuitBreaker(pool.name, config.circuit, (from: CircuitState, to: CircuitState) => {
    probe?.onStateChange(to);
    pool.emit('circuit', { from, to });
  });
  probe = new BreakerProbe(pool, breaker, config.circuit.recoveryTimeoutMs);
  const report = (error: unknown | undefined, startedAt: number): void => {
    if (error === undefined) breaker.success(startedAt);
    else if (isConnectivityFailure(error)) breaker.failure(error, startedAt);
  };
  const leaks = config.leakThresholdMs > 0 ? new LeakDetector(pool, config, options.warn) : undefined;
  const gate: PoolGate = {
    admit: () => breaker.admit(),
    admitShared: () => breaker.admit(),
    connectResult: report,
    statementResult: report,
  };
  if (leaks !== undefined) {
    // The call site must be taken on the caller's stack (admit), not when a queued waiter is served.
    gate.admit = () => {
      breaker.admit();
      return leaks.capture();
    };
    gate.lent = (entry, trace) => leaks.lent(entry, trace);
    leaks.start();
  }
  pool.gate = gate;
  breakers.set(pool, breaker);
  return { breaker, leaks };
}

/** The leak detector alone on the pool's gate (no breaker); undefined when leakThresholdMs is 0. */
function attachLeakDetection(
  pool: ConnectionPool<unknown>,
  config: ResilienceConfig,
  warn: LeakWarn | undefined,
): LeakDetector | undefined {
  if (config.leakThresholdMs <= 0) return undefined;
  const leaks = new LeakDetector(pool, config, warn);
  pool.gate = { admit: () => leaks.capture(), lent: (entry, trace) => leaks.lent(entry, trace) };
  leaks.start();
  return leaks;
}

/** The breaker's state for health(), metrics and the endpoints; undefined when none is attached. */
export function circuitSnapshot<C>(pool: ConnectionPool<C>): CircuitSnapshot | undefined {
  return breakers.get(pool as unknown as ConnectionPool<unknown>)?.snapshot();
}
