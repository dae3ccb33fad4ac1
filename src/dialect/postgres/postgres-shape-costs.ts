import type { ShapeView } from '../multiplexing.js';
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

/**
 * How a shape's next run is placed:
 * - SHARED: pipelined with other work, and other work may be pipelined behind it (learned fast);
 * - ALONE: last on a connection, which takes nothing more until it is answered, but expected short
 *   (learning, on probation, or always exclusive while measured fast);
 * - SLOW: alone, and in the slow lane, which never holds every connection while shared work is
 *   about (measured slow, or never measured yet).
 */
export const Lane = { SHARED: 0, ALONE: 1, SLOW: 2 } as const;
export type Lane = (typeof Lane)[keyof typeof Lane];

/** One shape's record. A class, so every record has one hidden class and the hot path reads fields in place. */
export class WorkShape {
  readonly key: string;
  /** Fixed by the dialect: never shares a pipeline, whatever it costs (writes, locking reads). */
  readonly alwaysExclusive: boolean;
  /** Smoothed time one run keeps its connection busy (ms). */
  costMs = 0;
  /** Runs measured. */
  samples = 0;
  /** Smoothed size of one answer, in the dialect's unit (rows): what it adds to a connection's backlog. */
  size = 0;
  /** Runs left to go alone after a shared run was suddenly slow (then the model decides again). */
  probation = 0;
  /** How the next run is placed (see {@link Lane}); unknown shapes go to the slow lane. */
  lane: Lane = Lane.SLOW;
  /** Runs started, by mode. */
  sharedRuns = 0;
  exclusiveRuns = 0;

  constructor(key: string, alwaysExclusive: boolean) {
    this.key = key;
    this.alwaysExclusive = alwaysExclusive;
  }
}

/**
 * Bounded table of shapes. A key seen once gets a young record (a one-off text with literals in it
 * stays there, and young records are dropped wholesale when too many); seen twice, it moves to the
 * table, where the oldest record makes way when full.
 */
export class ShapeCosts {
  readonly #shapes = new Map<string, WorkShape>();
  readonly #young = new Map<string, WorkShape>();
  readonly #capacity: number;
  readonly #alwaysExclusive: (key: string) => boolean;

  constructor(capacity: number, alwaysExclusive: (key: string) => boolean) {
    this.#capacity = capacity;
    this.#alwaysExclusive = alwaysExclusive;
  }

  /** The record of `key` (new ones are unknown: their work goes alone, in the slow lane). */
  lookup(key: string): WorkShape {
    return this.#shapes.get(key) ?? this.#learn(key);
  }

  get size(): number {
    return this.#shapes.size;
  }

  /**
   * Fold one measured run into its shape. `sampleMs` is the time the run kept its connection busy:
   * from when it reached the head of its pipeline to its answer. `ranShared` says it was pipelined;
   * `slowMs` is the cost from which a shape goes to the slow lane, and `suddenMs` the sample that puts
   * a shape that ran shared on probation.
   *
   * A learned cost rises at most RAISE_CAP times per sample, so one outlier (a lock wait, a
   * descheduled backend) barely moves it, while a lasting slowdown compounds within a few runs; it
   * falls freely. The outlier's shape still goes alone for PROBATION_RUNS runs, which measure it
   * without anything behind them: one of those as slow again is believed at once.
   */
  static observe(shape: WorkShape, sampleMs: number, ranShared: boolean, slowMs: number, suddenMs: number): void {
    if (shape.samples === 0 || (!ranShared && shape.probation > 0 && sampleMs > suddenMs)) shape.costMs = sampleMs;
    else shape.costMs += (Math.min(sampleMs, shape.costMs * RAISE_CAP + RAISE_FLOOR_MS) - shape.costMs) * COST_WEIGHT;
    shape.samples++;
    if (ranShared && sampleMs > suddenMs) shape.probation = PROBATION_RUNS;
    else if (!ranShared && shape.probation > 0) shape.probation--;
    if (shape.costMs >= slowMs) shape.lane = Lane.SLOW;
    else if (shape.alwaysExclusive || shape.probation > 0 || shape.samples < RUNS_TO_LEARN) shape.lane = Lane.ALONE;
    else shape.lane = Lane.SHARED;
  }

  /** Fold one answer's size (the dialect's unit) into its shape. */
  static observeSize(shape: WorkShape, size: number): void {
    shape.size = shape.samples <= 1 ? size : shape.size + (size - shape.size) * COST_WEIGHT;
  }

  /** Put a shape on probation at once (a run of it is stuck in flight): its next runs go alone. */
  static suspect(shape: WorkShape): void {
    shape.probation = PROBATION_RUNS;
    if (shape.lane === Lane.SHARED) shape.lane = Lane.ALONE;
  }

  /** The `limit` shapes that kept connections busy longest (cost x runs), costliest first. */
  top(limit: number): ShapeView[] {
    const busy = (shape: WorkShape) => shape.costMs * (shape.sharedRuns + shape.exclusiveRuns);
    const rows = [...this.#shapes.values()].sort((a, b) => busy(b) - busy(a));
    return rows.slice(0, limit).map((shape) => {
      const view: ShapeView = {
        key: shape.key,
        costMs: shape.costMs,
        runs: shape.sharedRuns + shape.exclusiveRuns,
        sharedRuns: shape.sharedRuns,
        exclusiveRuns: shape.exclusiveRuns,
        mode: shape.lane === Lane.SHARED ? 'shared' : 'exclusive',
      };
      if (shape.lane !== Lane.SHARED) view.reason = ShapeCosts.#reason(shape);
      return view;
    });
  }

  static #reason(shape: WorkShape): NonNullable<ShapeView['reason']> {
    if (shape.samples === 0) return 'unknown';
    if (shape.lane === Lane.SLOW) return 'slow';
    if (shape.alwaysExclusive) return 'always exclusive';
    if (shape.probation > 0) return 'probation';
    return 'learning';
  }

  #learn(key: string): WorkShape {
    const young = this.#young.get(key);
    if (young !== undefined) {
      this.#young.delete(key);
      if (this.#shapes.size >= this.#capacity) this.#shapes.delete(this.#shapes.keys().next().value as string);
      this.#shapes.set(key, young);
      return young;
    }
    if (this.#young.size >= this.#capacity * 4) this.#young.clear();
    const shape = new WorkShape(key, this.#alwaysExclusive(key));
    this.#young.set(key, shape);
    return shape;
  }
}
