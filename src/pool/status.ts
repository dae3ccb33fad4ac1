/** One snapshot type feeds the endpoints, metrics, CLI and dashboard alike. */
export interface PoolStatus {
  name: string;
  size: number;
  maxOverflow: number;
  /** size + maxOverflow. */
  max: number;
  /** Idle connections ready to lend. */
  checkedIn: number;
  /** Connections lent to borrowers (including those being validated or reset). */
  checkedOut: number;
  /** Connections above `size`. */
  overflow: number;
  /** Connections being opened. */
  opening: number;
  /** Connections being closed. */
  closing: number;
  /** checkedIn + checkedOut + opening + closing. Never above max. */
  total: number;
  /** Callers waiting for a connection. */
  waiting: number;
  closed: boolean;
}

/** Counters since the pool started. */
export interface PoolStats {
  created: number;
  closed: number;
  recycled: number;
  invalidated: number;
  checkouts: number;
  /** Checkouts that had to wait in the queue. */
  waits: number;
  timeouts: number;
  aborts: number;
  leaks: number;
  connectFailures: number;
  /**
   * Connect attempts given up because they had been pending far longer than connects usually take
   * while callers waited (replaced by a fresh attempt), or because the pool closed. Not failures.
   */
  connectsAbandoned: number;
  pingFailures: number;
  closedByReason: Record<CloseReason, number>;
}

/** All counters at zero: a new pool's. */
export function newStats(): PoolStats {
  return {
    created: 0,
    closed: 0,
    recycled: 0,
    invalidated: 0,
    checkouts: 0,
    waits: 0,
    timeouts: 0,
    aborts: 0,
    leaks: 0,
    connectFailures: 0,
    connectsAbandoned: 0,
    pingFailures: 0,
    closedByReason: { recycled: 0, idle: 0, invalidated: 0, overflow: 0, error: 0, closed: 0 },
  };
}

export type CloseReason = 'recycled' | 'idle' | 'invalidated' | 'overflow' | 'error' | 'closed';

/** Counters between two snapshots: `totals` minus `baseline` (db.stats() after db.resetStats()). */
export function statsSince(totals: PoolStats, baseline: PoolStats): PoolStats {
  const closedByReason = { ...totals.closedByReason };
  for (const reason of Object.keys(closedByReason) as CloseReason[]) closedByReason[reason] -= baseline.closedByReason[reason];
  const since = { ...totals, closedByReason };
  for (const key of Object.keys(since) as (keyof PoolStats)[]) {
    if (key !== 'closedByReason') since[key] = totals[key] - baseline[key];
  }
  return since;
}
