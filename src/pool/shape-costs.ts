/**
 * What the shared-lease scheduler learns about each kind of work it runs: for SQL, each statement
 * text. Knows no SQL: a shape is an opaque key, and the dialect says which keys must always run alone
 * (for PostgreSQL: writes and locking reads, whose cost a row lock can turn into seconds at any time).
 *
 * Why per shape: one smoothed service time for all work (the multiplexer's first design) reads a few
 * 300 ms statements among thousands of 0.05 ms ones as "fast on average", and pipelines fast work
 * behind them. Cost per shape tells them apart; only shapes measured fast share a pipeline.
 */

/** Runs of a shape measured before it may share a pipeline: until then it runs alone. */
export const RUNS_TO_LEARN = 2;
/** Weight of each new sample in a shape's smoothed cost. */
const COST_WEIGHT = 0.2;
/** A sample raises a learned cost at most this many times over (plus the floor) per run; see observe(). */
const RAISE_CAP = 4;
const RAISE_FLOOR_MS = 0.05;
/** Runs a shape goes alone after one of its shared runs was suddenly slow. */
export const PROBATION_RUNS = 8;

/** One shape's record. A class, so every record has one hidden class and the hot path reads fields in place. */
export class WorkShape {
  readonly key: string;
  /** Fixed by the dialect: never shares a pipeline, whatever it costs (writes, locking reads). */
  readonly alwaysExclusive: boolean;
  /** Smoothed time one run keeps its connection busy (ms). */
  costMs = 0;
  /** Runs measured. */
  samples = 0;
  /** Runs left to go alone after a shared run was suddenly slow (then the model decides again). */
  probation = 0;
  /** The scheduler may pipeline it (and put other work behind it): learned, fast, not on probation. */
  shared = false;
  /** Runs started, by mode. */
  sharedRuns = 0;
  exclusiveRuns = 0;

  constructor(key: string, alwaysExclusive: boolean) {
    this.key = key;
    this.alwaysExclusive = alwaysExclusive;
  }
}

/** A row of {@link ShapeCosts.top}: one shape as the endpoints show it. */
export interface ShapeView {
  key: string;
  costMs: number;
  runs: number;
  sharedRuns: number;
  exclusiveRuns: number;
  /** How its next run goes: pipelined with others, or alone on a connection. */
  mode: 'shared' | 'exclusive';
  /** Why it runs alone, when it does. */
  reason?: 'unknown' | 'slow' | 'probation' | 'always exclusive';
}

/**
 * Bounded table of shapes. A key gets a record on its second sight, so one-off keys (a text with
 * literals in it) take no room; when full, the oldest record makes way. A key without a record is
 * unknown: its work runs alone.
 */
export class ShapeCosts {
  readonly #shapes = new Map<string, WorkShape>();
  readonly #seenOnce = new Set<string>();
  readonly #capacity: number;
  readonly #alwaysExclusive: (key: string) => boolean;

  constructor(capacity: number, alwaysExclusive: (key: string) => boolean) {
    this.#capacity = capacity;
    this.#alwaysExclusive = alwaysExclusive;
  }

  /** The record of `key`, or undefined while it is unknown (first sight). */
  lookup(key: string): WorkShape | undefined {
    return this.#shapes.get(key) ?? this.#learn(key);
  }

  get size(): number {
    return this.#shapes.size;
  }

  /**
   * Fold one measured run into its shape. `sampleMs` is the time the run kept its connection busy:
   * from when it reached the head of its pipeline to its answer. `ranShared` says it was pipelined;
   * `slowMs` is the cost above which a shape does not share, and `suddenMs` the sample that puts a
   * shape that ran shared on probation.
   *
   * A learned cost rises at most RAISE_CAP times per sample, so one outlier (a lock wait, a
   * descheduled backend) barely moves it, while a lasting slowdown compounds within a few runs; it
   * falls freely. The outlier's shape still goes alone for PROBATION_RUNS runs, which measure it
   * cleanly: nothing is put behind a run that may be slow again.
   */
  static observe(shape: WorkShape, sampleMs: number, ranShared: boolean, slowMs: number, suddenMs: number): void {
    if (shape.samples === 0) shape.costMs = sampleMs;
    else shape.costMs += (Math.min(sampleMs, shape.costMs * RAISE_CAP + RAISE_FLOOR_MS) - shape.costMs) * COST_WEIGHT;
    shape.samples++;
    if (ranShared && sampleMs > suddenMs) shape.probation = PROBATION_RUNS;
    else if (!ranShared && shape.probation > 0) shape.probation--;
    shape.shared = !shape.alwaysExclusive && shape.probation === 0 && shape.samples >= RUNS_TO_LEARN && shape.costMs < slowMs;
  }

  /** Put a shape on probation at once (its run is stuck in flight): its next runs go alone. */
  static suspect(shape: WorkShape): void {
    shape.probation = PROBATION_RUNS;
    shape.shared = false;
  }

  /** The `limit` shapes that kept connections busy longest (cost x runs), costliest first. */
  top(limit: number, slowMs: number): ShapeView[] {
    const rows = [...this.#shapes.values()].sort((a, b) => b.costMs * (b.sharedRuns + b.exclusiveRuns) - a.costMs * (a.sharedRuns + a.exclusiveRuns));
    return rows.slice(0, limit).map((shape) => {
      const view: ShapeView = {
        key: shape.key,
        costMs: shape.costMs,
        runs: shape.sharedRuns + shape.exclusiveRuns,
        sharedRuns: shape.sharedRuns,
        exclusiveRuns: shape.exclusiveRuns,
        mode: shape.shared ? 'shared' : 'exclusive',
      };
      if (!shape.shared) view.reason = ShapeCosts.#reason(shape, slowMs);
      return view;
    });
  }

  static #reason(shape: WorkShape, slowMs: number): NonNullable<ShapeView['reason']> {
    if (shape.alwaysExclusive) return 'always exclusive';
    if (shape.probation > 0) return 'probation';
    if (shape.samples < RUNS_TO_LEARN) return 'unknown';
    return shape.costMs >= slowMs ? 'slow' : 'unknown';
  }

  #learn(key: string): WorkShape | undefined {
    if (!this.#seenOnce.has(key)) {
      if (this.#seenOnce.size >= this.#capacity * 4) this.#seenOnce.clear();
      this.#seenOnce.add(key);
      return undefined;
    }
    this.#seenOnce.delete(key);
    if (this.#shapes.size >= this.#capacity) {
      const oldest = this.#shapes.keys().next().value as string;
      this.#shapes.delete(oldest);
    }
    const shape = new WorkShape(key, this.#alwaysExclusive(key));
    this.#shapes.set(key, shape);
    return shape;
  }
}
