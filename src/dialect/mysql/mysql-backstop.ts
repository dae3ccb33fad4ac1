import { performance } from 'node:perf_hooks';

/** One statement being watched: when `deadline` (monotonic ms) passes, `expire` runs once. */
export interface WatchedStatement {
  readonly deadline: number;
  readonly expire: () => void;
}

/**
 * The client-side backstop's clock: one sweeping timer for every statement in flight, instead of a
 * setTimeout/clearTimeout pair per statement on the hot path (the pool's waiter queue does the
 * same). A statement expires at most `sweepMs` after its deadline. The timer is unref'd and stops
 * on a sweep that finds nothing to watch.
 */
export class StatementBackstop {
  readonly #watched = new Set<WatchedStatement>();
  readonly #sweepMs: number;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(sweepMs: number) {
    this.#sweepMs = sweepMs;
  }

  watch(timeoutMs: number, expire: () => void): WatchedStatement {
    const statement = { deadline: performance.now() + timeoutMs, expire };
    this.#watched.add(statement);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
      this.#timer.unref();
    }
    return statement;
  }

  /** The statement answered: stop watching it. */
  done(statement: WatchedStatement): void {
    this.#watched.delete(statement);
  }

  #sweep(): void {
    if (this.#watched.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const statement of this.#watched) {
      if (now >= statement.deadline) {
        this.#watched.delete(statement);
        statement.expire();
      }
    }
  }
}
