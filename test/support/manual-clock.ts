import type { Clock, ClockTimer } from '../../src/pool/clock.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  everyMs: number | undefined;
}

/** Let promise callbacks and I/O callbacks queued so far run (the pool's work after a timer fires). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock the test steps (HikariCP's tests do the same with a mock ClockSource): no timer fires and no
 * time passes until `advance`, so tests of the pool, the breaker and its probe never sleep on real time
 * and do not depend on the machine's load. Timers fire in due order, each seeing `now()` at its due time.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 1_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  coarse(): number {
    return this.#now;
  }

  retain(): () => void {
    return () => undefined;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    return this.#add(fn, ms, ms);
  }

  clear(timer: ClockTimer | undefined): void {
    if (typeof timer === 'number') this.#timers.delete(timer);
  }

  /** Timers still scheduled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order, and letting the work they start run. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    await settle();
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.#timers.values()) if (timer.at <= until && (next === undefined || timer.at < next.at)) next = timer;
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      if (next.everyMs === undefined) this.#timers.delete(next.id);
      else next.at += Math.max(1, next.everyMs);
      next.fn();
      await settle();
    }
    this.#now = until;
    await settle();
  }

  #add(fn: () => void, ms: number, everyMs: number | undefined): number {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), fn, everyMs });
    return id;
  }
}
