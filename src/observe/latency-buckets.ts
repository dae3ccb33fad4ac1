/**
 * Log-linear buckets of whole microseconds, HdrHistogram's layout with two significant digits: values
 * below 256 µs are counted exactly, each power of two above is cut into 128 equal buckets, so a bucket
 * is never wider than 1/128 (0.8%) of the values it holds.
 *
 * Written here rather than taken from hdr-histogram-js because its recordValue computes the bucket with
 * Math.log2 and Math.pow: about 60 ns, recorded twice per statement (checkout wait and statement time),
 * next to a SQLite point read of 4 µs. Here the index is Math.clz32 and a shift. The counts grow with the
 * largest value seen, so a window of sub-millisecond statements stays a few KB.
 */
const EXACT = 256;
const SUB_BITS = 7;
/** Above 2^31 µs (36 minutes) clz32 no longer applies; such values take the slow path. */
const INT_LIMIT = 2 ** 31;

/** The bucket of `us` (a whole number of microseconds, >= 0). */
export function bucketIndex(us: number): number {
  if (us < EXACT) return us;
  if (us < INT_LIMIT) {
    const shift = 31 - Math.clz32(us) - SUB_BITS;
    return (shift << SUB_BITS) + (us >>> shift);
  }
  let exponent = Math.floor(Math.log2(us));
  // log2 may round up just below a power of two.
  if (2 ** exponent > us) exponent--;
  const shift = exponent - SUB_BITS;
  return shift * 2 ** SUB_BITS + Math.floor(us / 2 ** shift);
}

/** The largest value (µs) that falls in bucket `index`. */
export function bucketUpperUs(index: number): number {
  if (index < EXACT) return index;
  const shift = (index >>> SUB_BITS) - 1;
  const top = (index & ((1 << SUB_BITS) - 1)) + (1 << SUB_BITS);
  return (top + 1) * 2 ** shift - 1;
}

/** One histogram: counts per bucket, plus the exact count, sum and max. */
export class LatencyBuckets {
  counts = new Float64Array(512);
  count = 0;
  sumUs = 0;
  maxUs = 0;

  record(us: number): void {
    const index = bucketIndex(us);
    if (index >= this.counts.length) this.#grow(index);
    this.counts[index] = (this.counts[index] as number) + 1;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** Add another histogram's values to this one. */
  add(other: LatencyBuckets): void {
    if (other.count === 0) return;
    if (other.counts.length > this.counts.length) this.#grow(other.counts.length - 1);
    const counts = this.counts;
    const from = other.counts;
    for (let i = 0; i < from.length; i++) counts[i] = (counts[i] as number) + (from[i] as number);
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  /**
   * The upper edge of the bucket holding the value at `percentile` (0-100), as HdrHistogram reports
   * it; 0 when empty.
   */
  valueAtPercentile(percentile: number): number {
    const wanted = Math.max(1, Math.floor((Math.min(percentile, 100) / 100) * this.count + 0.5));
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i] as number;
      if (seen >= wanted) return bucketUpperUs(i);
    }
    return 0;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  #grow(index: number): void {
    let length = this.counts.length;
    while (length <= index) length *= 2;
    const counts = new Float64Array(length);
    counts.set(this.counts);
    this.counts = counts;
  }
}
