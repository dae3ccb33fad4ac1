/**
 * A Prometheus histogram with one label (`pool_name`) that a prom-client Registry can expose.
 *
 * Written here rather than using prom-client's Histogram because its `observe` hashes the label set
 * and validates it on every call; on the checkout and query path that cost shows up in throughput.
 * Here a pool holds its own child (a Float64Array of bucket counts) and an observation is a short
 * scan of the bounds and three additions. The exposition format is produced by prom-client itself
 * (this object implements the `get()` shape its Registry reads).
 */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #children = new Map<string, HistogramChild>();

  constructor(name: string, help: string, bounds: readonly number[]) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
  }

  /** The child of one pool; created on first use. */
  child(poolName: string): HistogramChild {
    let child = this.#children.get(poolName);
    if (child === undefined) {
      child = new HistogramChild(this.#bounds);
      this.#children.set(poolName, child);
    }
    return child;
  }

  remove(poolName: string): void {
    this.#children.delete(poolName);
  }

  reset(): void {
    for (const child of this.#children.values()) child.reset();
  }

  /** What prom-client's Registry reads to write the exposition. */
  get(): { name: string; help: string; type: string; aggregator: string; values: HistogramValue[] } {
    const values: HistogramValue[] = [];
    for (const [poolName, child] of this.#children) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += child.counts[i] as number;
        values.push({
          labels: { le: this.#bounds[i] as number, pool_name: poolName },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { le: '+Inf', pool_name: poolName }, value: child.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { pool_name: poolName }, value: child.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { pool_name: poolName }, value: child.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

interface HistogramValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/** One pool's buckets. `counts[i]` holds observations in (bounds[i-1], bounds[i]]; above the last bound only `count` grows. */
export class HistogramChild {
  readonly counts: Float64Array;
  readonly #bounds: readonly number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length);
  }

  observe(seconds: number): void {
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
    this.sum += seconds;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
