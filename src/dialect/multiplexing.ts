/** What a dialect's statement multiplexer reports: its state, and the statement shapes it learned. */

export interface SharedLeasesStatus {
  held: number;
  inFlight: number;
  waiting: number;
  acquiring: number;
  /** Smoothed server time of one pipelined unit (ms), which sets how deep connections pipeline. */
  serviceTimeMs: number;
  /** Units running alone on a connection now, and of those the ones in the slow lane. */
  exclusiveInFlight: number;
  slowLaneInFlight: number;
  /** Units started since the start: pipelined with others, or alone on a connection. */
  sharedRuns: number;
  exclusiveRuns: number;
}

/** A row of {@link ShapeCosts.top}: one shape as the endpoints show it. */
export interface ShapeView {
  key: string;
  /** Smoothed time one run kept its connection busy (ms). */
  costMs: number;
  runs: number;
  sharedRuns: number;
  exclusiveRuns: number;
  /** How its next run goes: pipelined with others, or alone on a connection. */
  mode: 'shared' | 'exclusive';
  /** Why it runs alone, when it does. */
  reason?: 'unknown' | 'learning' | 'slow' | 'probation' | 'always exclusive';
}
