import { performance } from 'node:perf_hooks';
import { ConsecutiveBreaker } from 'cockatiel';
import { CircuitOpenError } from '../errors.js';
import type { CircuitState } from '../pool/events.js';

export interface CircuitBreakerSettings {
  /** Consecutive connectivity failures that open the breaker. */
  failureThreshold: number;
  /**
   * The longest the breaker stays open without a trial: after it, the next call goes through as the
   * trial. The pool's background probe may try sooner (breaker-probe.ts).
   */
  recoveryTimeoutMs: number;
}

/** A read-only view of the breaker, for health() and metrics. */
export interface CircuitSnapshot {
  state: CircuitState;
  /** Consecutive failures counted so far (resets on success). */
  failures: number;
  failureThreshold: number;
  recoveryTimeoutMs: number;
  /** While open, milliseconds until a caller's trial at the latest (the pool's probe may come sooner); 0 otherwise. */
  retryInMs: number;
  /** The failure that opened it, as a message (never a password: driver messages carry none). */
  lastFailure: string | undefined;
}

/**
 * The pool's circuit breaker: consecutive connectivity failures open it, calls then fail at once with
 * CIRCUIT_OPEN, after `recoveryTimeoutMs` one trial goes through (half-open) and its success closes it.
 * The trial may also be the pool's own background probe, one connect attempt at a time at growing
 * intervals never longer than `recoveryTimeoutMs` (breaker-probe.ts), so that service resumes soon
 * after the server does rather than up to `recoveryTimeoutMs` later.
 *
 * Counting is cockatiel's `ConsecutiveBreaker`. The state machine is our own because cockatiel's
 * `CircuitBreakerPolicy` wraps a call (`execute(fn)`) and, while half-open, makes every other call
 * wait for the trial: the pool needs a synchronous admit/refuse decision at checkout (callers must
 * fail at once) and learns outcomes later, from connect attempts and statements.
 *
 * "Consecutive" counts rounds, not echoes: a failure whose attempt began before the last counted
 * failure was seen (twenty in-flight statements broken by one reset) is the same fault seen again,
 * and is not counted twice. So a single reset never opens the breaker, while a server that refuses
 * every new attempt opens it after `failureThreshold` rounds.
 */
export class CircuitBreaker {
  readonly #settings: Readonly<CircuitBreakerSettings>;
  readonly #poolName: string;
  readonly #counter: ConsecutiveBreaker;
  readonly #onChange: (from: CircuitState, to: CircuitState) => void;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #openedAt = 0;
  #trialAt = 0;
  #lastCountedAt = Number.NEGATIVE_INFINITY;
  #lastFailure: unknown = undefined;

  constructor(
    poolName: string,
    settings: CircuitBreakerSettings,
    onChange: (from: CircuitState, to: CircuitState) => void,
    now: () => number = performance.now.bind(performance),
  ) {
    this.#poolName = poolName;
    this.#settings = Object.freeze({ ...settings });
    this.#counter = new ConsecutiveBreaker(settings.failureThreshold);
    this.#onChange = onChange;
    this.#now = now;
  }

  get state(): CircuitState {
    return this.#state;
  }

  /** Before a checkout: returns when the call may go on, throws CIRCUIT_OPEN when it must fail at once. */
  admit(): void {
    if (this.#state === 'closed') return;
    const now = this.#now();
    if (this.#state === 'open') {
      const waited = now - this.#openedAt;
      if (waited < this.#settings.recoveryTimeoutMs) {
        throw new CircuitOpenError(this.#poolName, this.#settings.recoveryTimeoutMs - waited, this.#lastFailure);
      }
      this.#trialAt = now;
      this.#move('half-open');
      return; // this call is the trial
    }
    // Half-open: one trial at a time. A trial that never reports (its checkout timed out) must not
    // wedge the breaker, so after another recovery period the next call becomes the trial.
    if (now - this.#trialAt >= this.#settings.recoveryTimeoutMs) {
      this.#trialAt = now;
      return;
    }
    throw new CircuitOpenError(this.#poolName, this.#settings.recoveryTimeoutMs - (now - this.#trialAt), this.#lastFailure);
  }

  /**
   * The pool's own background probe asks to be the trial (see breaker-probe.ts). Allowed only while
   * open (not when a trial is already in flight): the breaker moves to half-open as for a caller's
   * trial, and the probe's connect outcome, reported like any other, closes or reopens it.
   */
  beginProbe(): boolean {
    const now = this.#now();
    if (this.#state === 'closed') return false;
    // A trial in flight has the floor, unless it never reported (the same rule as in admit).
    if (this.#state === 'half-open' && now - this.#trialAt < this.#settings.recoveryTimeoutMs) return false;
    this.#trialAt = now;
    this.#move('half-open');
    return true;
  }

  /** The server answered (a connect or a statement). `startedAt` is when that attempt began. */
  success(startedAt: number): void {
    this.#counter.success();
    if (this.#state !== 'closed' && startedAt >= this.#openedAt) {
      this.#lastFailure = undefined;
      this.#move('closed');
    }
  }

  /** A connectivity failure (never a SQL error). `startedAt` is when the failed attempt began. */
  failure(error: unknown, startedAt: number): void {
    if (startedAt < this.#lastCountedAt) return; // an echo of a failure already counted
    const now = this.#now();
    this.#lastCountedAt = now;
    this.#lastFailure = error;
    if (this.#state === 'half-open') {
      this.#open(now);
      return;
    }
    if (this.#counter.failure() && this.#state === 'closed') this.#open(now);
  }

  snapshot(): CircuitSnapshot {
    const retryInMs = this.#state === 'open' ? Math.max(0, this.#settings.recoveryTimeoutMs - (this.#now() - this.#openedAt)) : 0;
    const last = this.#lastFailure;
    return {
      state: this.#state,
      failures: this.#counter.state,
      failureThreshold: this.#settings.failureThreshold,
      recoveryTimeoutMs: this.#settings.recoveryTimeoutMs,
      retryInMs,
      lastFailure: last === undefined ? undefined : last instanceof Error ? last.message : String(last),
    };
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#counter.success(); // start counting afresh after the next recovery
    this.#move('open');
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onChange(from, to);
  }
}
