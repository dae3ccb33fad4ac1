import { performance } from 'node:perf_hooks';
import { coarseNow, retainClock } from '../pool/clock.js';

/** One statement being watched. Returned by `track`, handed back to `done`. */
export interface TrackedDeadline {
  /** performance.now() after which the statement is abandoned. */
  readonly deadline: number;
  readonly expire: () => void;
}

/**
 * Client-side deadlines for statements in flight, checked by ONE shared timer instead of a
 * setTimeout per statement: tracking is a Set insert and delete on the hot path, and the timer runs
 * only while something is in flight (it stops itself on the first sweep that finds nothing).
 * A deadline fires between `deadline` and `deadline + tickMs`.
 */
export class DeadlineSweeper {
  readonly tickMs: number;
  readonly #inflight = new Set<TrackedDeadline>();
  #timer: NodeJS.Timeout | undefined = undefined;
  #releaseClock: (() => void) | undefined = undefined;

  constructor(tickMs: number) {
    this.tickMs = tickMs;
  }

  /** Watch a statement: `expire` runs once if `done` was not called by `deadline`. */
  track(deadline: number, expire: () => void): TrackedDeadline {
    const tracked: TrackedDeadline = { deadline, expire };
    this.#inflight.add(tracked);
    this.#ensureTimer();
    return tracked;
  }

  /**
   * Watch a statement for `budgetMs` from now, read from the coarse clock (at most a tick old, and
   * free): plenty for a deadline with a 500 ms margin. The sweeper keeps that clock ticking while
   * anything is in flight, so it is never stale here.
   */
  expiresIn(budgetMs: number, expire: () => void): TrackedDeadline {
    this.#ensureTimer();
    return this.track(coarseNow() + budgetMs, expire);
  }

  #ensureTimer(): void {
    if (this.#timer === undefined) {
      this.#releaseClock = retainClock();
      // Referenced (not unref'd), for both dialects: a statement in flight is work a caller awaits, and
      // its deadline is a promise to that caller (STATEMENT_TIMEOUT within the timeout plus the margin),
      // which must hold even when nothing else keeps the event loop alive (a driver socket unref'd by
      // the user, a script awaiting one last query). Style rule 8 unrefs timers so that an idle pool
      // never keeps the process alive; this timer already satisfies that, because it exists only while
      // a statement is in flight and stops on the first sweep that finds none. MySQL's former sweeper
      // was unref'd; with one timer for all, the stronger guarantee wins.
      this.#timer = setInterval(() => this.sweep(), this.tickMs);
    }
  }

  done(tracked: TrackedDeadline): void {
    this.#inflight.delete(tracked);
  }

  get size(): number {
    return this.#inflight.size;
  }

  /** Expire everything past its deadline. Public for tests. */
  sweep(now = performance.now()): void {
    if (this.#inflight.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#releaseClock?.();
      this.#releaseClock = undefined;
      return;
    }
    for (const tracked of this.#inflight) {
      if (now < tracked.deadline) continue;
      this.#inflight.delete(tracked);
      try {
        tracked.expire();
      } catch {
        // An expiry handler must not stop the others from firing.
      }
    }
  }
}

/** Added to a statement's own timeout before the client gives up on a server that does not answer. */
export const BACKSTOP_MARGIN_MS = 500;

/**
 * The process-wide sweeper for statement deadlines: every pool of every dialect (the PostgreSQL
 * backstop through withDeadline, MySQL's callback path through expiresIn/done) shares it, so there
 * is one timer in all.
 */
export const statementDeadlines = new DeadlineSweeper(100);

/**
 * Race `work` against a client-side deadline of `budgetMs`: if it has not settled by then, the
 * returned promise rejects with `onExpire()`'s error and `abandon` runs (discard the connection,
 * send a cancel). `work`'s late outcome is swallowed.
 */
export function withDeadline<T>(work: Promise<T>, budgetMs: number, onExpire: () => Error, abandon: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settle = callbackDeadline(budgetMs, () => {
      reject(onExpire());
      abandon();
    });
    work.then(
      (value) => {
        if (settle()) resolve(value);
      },
      (error) => {
        if (settle()) reject(error);
      },
    );
  });
}

/**
 * The same race for a driver's callback API, without a promise of its own: returns `settle`, to call
 * when the driver answers; it returns false when the deadline has already fired, so the late answer
 * is dropped. `expire` runs once if `settle` was not called within `budgetMs` (0: no deadline).
 */
export function callbackDeadline(budgetMs: number, expire: () => void): () => boolean {
  let settled = false;
  const tracked =
    budgetMs > 0
      ? statementDeadlines.expiresIn(budgetMs, () => {
          if (settled) return;
          settled = true;
          expire();
        })
      : undefined;
  return () => {
    if (settled) return false;
    settled = true;
    if (tracked !== undefined) statementDeadlines.done(tracked);
    return true;
  };
}
