/**
 * Telling "the writer moved" from one unlucky statement. After a failover (Aurora, RDS, orchestrator,
 * a DNS switch) the old writer is a reader: every pooled connection still points at it, and each
 * fails once with a read-only error before the pool gives it up. A burst of such errors within a short
 * window is the signal to give up all of them at once, so every connection reconnects through DNS to
 * the new writer. A lone read-only error (a write inside START TRANSACTION READ ONLY) is not a burst.
 */

export interface WriterMovedSettings {
  /** Read-only errors within `windowMs` that mean the writer moved. */
  threshold: number;
  /** The window, in milliseconds. */
  windowMs: number;
  /** Milliseconds on a monotonic clock; injected so tests step time instead of sleeping. */
  now: () => number;
}

/** Three read-only errors within ten seconds: more than one app bug, fewer than a pool of connections failing one by one. */
export const WRITER_MOVED_DEFAULTS: Readonly<Omit<WriterMovedSettings, 'now'>> = Object.freeze({ threshold: 3, windowMs: 10_000 });

/** Counts read-only errors in a sliding window; `record()` says when they add up to a burst. */
export class WriterMovedDetector {
  readonly #settings: WriterMovedSettings;
  /** When the errors of the current window happened, oldest first (at most `threshold`). */
  readonly #times: number[] = [];

  constructor(settings: WriterMovedSettings) {
    if (!(Number.isInteger(settings.threshold) && settings.threshold >= 1)) throw new RangeError('threshold must be an integer >= 1');
    if (!(settings.windowMs >= 0)) throw new RangeError('windowMs must be >= 0');
    this.#settings = settings;
  }

  /**
   * One read-only error. True when it completes a burst: the caller invalidates the pool. The count
   * then starts over, so the errors of connections already condemned do not fire it again at once.
   */
  record(): boolean {
    const now = this.#settings.now();
    const times = this.#times;
    times.push(now);
    while (times.length > 0 && now - (times[0] as number) > this.#settings.windowMs) times.shift();
    if (times.length < this.#settings.threshold) return false;
    times.length = 0;
    return true;
  }
}
