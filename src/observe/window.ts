import { LatencyBuckets } from './latency-buckets.js';

/** Percentiles of one latency over the window, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

const SLICES = 6;
// Values are recorded in whole microseconds: enough resolution for sub-ms pings.
const US_PER_MS = 1000;

/**
 * A latency distribution over a sliding window, from log-linear buckets (HdrHistogram's layout, not
 * a sort of samples): the window is cut into slices, each its own histogram; `rotate()` (called by a
 * timer every windowMs / 6) clears the oldest slice. Recording is one bucket increment; a summary
 * merges the slices.
 */
export class LatencyWindow {
  readonly #slices: LatencyBuckets[] = Array.from({ length: SLICES }, () => new LatencyBuckets());
  readonly #merged = new LatencyBuckets();
  /** The slice being recorded into (a field, not an index: recording happens on every statement). */
  #slice: LatencyBuckets = this.#slices[0] as LatencyBuckets;
  #current = 0;
  readonly #failures = new Float64Array(SLICES);

  /** Record one duration in milliseconds; `failed` counts it toward the failure rate too. */
  record(ms: number, failed = false): void {
    this.#slice.record(ms > 0 ? Math.round(ms * US_PER_MS) : 0);
    if (failed) this.#failures[this.#current] = (this.#failures[this.#current] as number) + 1;
  }

  /** Count a failure that has no duration (a checkout timeout, for instance). */
  fail(): void {
    this.#failures[this.#current] = (this.#failures[this.#current] as number) + 1;
  }

  /** Drop the oldest slice: the window moves on by one slice. */
  rotate(): void {
    this.#current = (this.#current + 1) % SLICES;
    this.#slice = this.#slices[this.#current] as LatencyBuckets;
    this.#slice.reset();
    this.#failures[this.#current] = 0;
  }

  /** Empty the whole window (db.resetStats()): every slice and its failures. */
  reset(): void {
    for (const slice of this.#slices) slice.reset();
    this.#failures.fill(0);
  }

  /** Failures in the window. */
  get failures(): number {
    let sum = 0;
    for (const n of this.#failures) sum += n;
    return sum;
  }

  summary(): LatencySummary {
    const merged = this.#merged;
    merged.reset();
    for (const slice of this.#slices) merged.add(slice);
    const count = merged.count;
    if (count === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const ms = (us: number): number => Math.round((us / US_PER_MS) * 1000) / 1000;
    const max = ms(merged.maxUs);
    // A percentile is reported as its bucket's upper edge; never show it above the largest value seen.
    const at = (percentile: number): number => Math.min(max, ms(merged.valueAtPercentile(percentile)));
    return {
      count,
      p50: at(50),
      p95: at(95),
      p99: at(99),
      max,
      mean: ms(merged.sumUs / count),
    };
  }

  /** Number of slices the window is cut into (the rotation timer fires every windowMs / SLICES). */
  static readonly SLICES = SLICES;
}
