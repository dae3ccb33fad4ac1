import type { ClockTimer } from '../pool/clock.js';
import type { CircuitState } from '../pool/events.js';
import type { ConnectionPool } from '../pool/pool.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/** The first probe comes about this long after the breaker opens; each costly failure doubles the wait. */
export const PROBE_FIRST_DELAY_MS = 100;

/** The pool surface the probe needs (the core's ConnectionPool provides it). */
type ProbedPool = Pick<ConnectionPool<unknown>, 'probe' | 'status' | 'closed' | 'clock'>;

/**
 * While the breaker is open, the pool probes the server itself, so that service resumes soon after
 * the server does instead of up to `recoveryTimeoutMs` later (the next caller's trial).
 *
 * - One connect attempt at a time, never more: a recovering server sees one connection, not the
 *   callers' storm the breaker holds back. HikariCP adds connections the same way (one at a time,
 *   backoff up to 5 s); pgbouncer waits `server_login_retry` between failed logins.
 * - The probe is the breaker's trial: half-open while it runs, closed by its success (its connection
 *   then serves the next caller), reopened by its failure. Callers still fail at once meanwhile.
 * - Its delay starts near 100 ms and doubles after each failure, up to `recoveryTimeoutMs`, with
 *   jitter (half to full delay) so pods sharing a server do not probe in step. So `recoveryTimeoutMs`
 *   is the longest the breaker goes without a trial, as the contract's half-open rule requires.
 * - A refused connect (nothing listens: the server is down or restarting) does not grow the delay:
 *   the kernel answers it and the database does no work, so probing every ~100 ms costs the server
 *   nothing and finds it as soon as it listens again. Timeouts and server-side refusals ("starting
 *   up", too many connections) grow it, since each costs the server a process or a slot.
 *
 * The timer is unref'd (a background task must not keep the process alive) and stops with the pool.
 */
export class BreakerProbe {
  readonly #pool: ProbedPool;
  readonly #breaker: CircuitBreaker;
  readonly #recoveryTimeoutMs: number;
  #timer: ClockTimer | undefined = undefined;
  #delayMs = PROBE_FIRST_DELAY_MS;
  #running = false;

  constructor(pool: ProbedPool, breaker: CircuitBreaker, recoveryTimeoutMs: number) {
    this.#pool = pool;
    this.#breaker = breaker;
    this.#recoveryTimeoutMs = recoveryTimeoutMs;
  }

  /** Called on every breaker transition. */
  onStateChange(to: CircuitState): void {
    if (to === 'closed') {
      this.#pool.clock.clear(this.#timer);
      this.#timer = undefined;
      this.#delayMs = PROBE_FIRST_DELAY_MS;
      return;
    }
    // A probe in flight schedules its successor itself when it ends.
    if (to === 'open' && !this.#running && this.#timer === undefined) this.#schedule();
  }

  #schedule(): void {
    if (this.#pool.closed) return;
    const delayMs = Math.min(this.#delayMs, this.#recoveryTimeoutMs) * (0.5 + Math.random() * 0.5);
    this.#timer = this.#pool.clock.setTimeout(() => void this.#run(), delayMs);
  }

  #done(): boolean {
    return this.#pool.closed || this.#breaker.state === 'closed';
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    if (this.#done()) return;
    const status = this.#pool.status();
    // No room (a connection is lent: its statements report to the breaker), or a caller's trial is in
    // flight: look again later.
    if (status.total >= status.max || !this.#breaker.beginProbe()) {
      this.#schedule();
      return;
    }
    this.#running = true;
    let costly = true;
    try {
      await this.#pool.probe(); // its outcome reaches the breaker through the pool's gate
    } catch (error) {
      costly = !refusedOutright(error);
    } finally {
      this.#running = false;
    }
    if (this.#done()) return; // closed by the probe's success (or the pool closed meanwhile)
    if (costly) this.#delayMs = Math.min(this.#delayMs * 2, this.#recoveryTimeoutMs);
    this.#schedule();
  }
}

/** True when nothing listened at the address (ECONNREFUSED), on the error or a cause it wraps. */
function refusedOutright(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'ECONNREFUSED') return true;
  }
  return false;
}
