import { performance } from 'node:perf_hooks';

/**
 * A coarse monotonic clock for the checkout hot path. Reading the real clock is a large share of a
 * whole acquire+release (bench/RESULTS.md, "Figures behind the code's choices"), while the decisions
 * the hot path makes with time (pre-ping bypass window, recycling after minutes) need only tens of
 * milliseconds of precision. One unref'd timer refreshes it while any pool is open.
 * Waiter deadlines and reported durations keep using performance.now().
 */
/** How stale coarseNow() may be, event-loop lag aside. */
export const TICK_MS = 25;
let cached = performance.now();
let timer: NodeJS.Timeout | undefined;
let holders = 0;

/** Milliseconds in performance.now()'s time base, at most TICK_MS (plus event-loop lag) old. */
export function coarseNow(): number {
  return cached;
}

/** Keep the clock ticking; call `release` when done. */
export function retainClock(): () => void {
  holders++;
  cached = performance.now();
  if (timer === undefined) {
    timer = setInterval(() => {
      cached = performance.now();
    }, TICK_MS);
    timer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/** A timer of a {@link Clock}: opaque, handed back to `clear`. */
export type ClockTimer = unknown;

/**
 * Where the pool, the circuit breaker and its probe get time and timers (HikariCP's ClockSource). The
 * default is the system's; tests pass a manual clock (test/support/manual-clock.ts) and step time
 * instead of sleeping. All times are monotonic milliseconds in performance.now()'s time base.
 */
export interface Clock {
  now(): number;
  /** now(), up to TICK_MS stale (plus event-loop lag): the checkout hot path's clock. */
  coarse(): number;
  /** Keep coarse() fresh while a pool is open; returns its release. */
  retain(): () => void;
  /** Run `fn` after `ms`. Unref'd (never keeps the process alive) unless `ref`: work a caller awaits. */
  setTimeout(fn: () => void, ms: number, ref?: boolean): ClockTimer;
  /** Run `fn` every `ms`, unref'd. */
  setInterval(fn: () => void, ms: number): ClockTimer;
  /** Cancel a timer or interval (undefined: nothing). */
  clear(timer: ClockTimer | undefined): void;
}

/** The system clock: performance.now(), the shared coarse clock, node's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  coarse: coarseNow,
  retain: retainClock,
  setTimeout(fn, ms, ref = false) {
    const timer = setTimeout(fn, ms);
    if (!ref) timer.unref();
    return timer;
  },
  setInterval(fn, ms) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return timer;
  },
  clear(timer) {
    if (timer !== undefined) clearTimeout(timer as NodeJS.Timeout);
  },
};
