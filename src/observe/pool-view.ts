import type { DatabasePool, PoolRole } from '../database-pool.js';
import type { CircuitState } from '../pool/events.js';
import type { PoolStatus } from '../pool/status.js';

/**
 * One pool of a database as /health/pool, /health/detailed and the dashboard show it: its status
 * snapshot, utilization (checkedOut / max, 0..1), and the counters an operator looks at first
 * (checkout timeouts and leaks since start) with its circuit state.
 */
export interface PoolView extends PoolStatus {
  role: PoolRole;
  utilization: number;
  timeouts: number;
  leaks: number;
  circuit: CircuitState;
}

export function poolView(pool: DatabasePool): PoolView {
  const status = pool.pool.status();
  const stats = pool.pool.stats();
  return {
    role: pool.role,
    ...status,
    utilization: status.max === 0 ? 0 : status.checkedOut / status.max,
    timeouts: stats.timeouts,
    leaks: stats.leaks,
    circuit: pool.circuitState,
  };
}

const SEVERITY: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The worst circuit state among the pools: a database whose writer's breaker is open is not healthy. */
export function worstCircuit(pools: readonly DatabasePool[]): CircuitState {
  let worst: CircuitState = 'closed';
  for (const pool of pools) if (SEVERITY[pool.circuitState] > SEVERITY[worst]) worst = pool.circuitState;
  return worst;
}
