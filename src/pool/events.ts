import type { CloseReason } from './status.js';

/** Events the pool emits. Instrumentation subscribes; the pool pays nothing for events nobody listens to. */
export interface PoolEventMap {
  connect: [event: { connectionId: number; durationMs: number }];
  /**
   * `shared`: one statement on a multiplexed connection (waitMs: its wait for room; heldMs: its
   * duration); `exclusive`: it ran alone on that connection (slow, unknown or a write), not pipelined.
   * `internal`: a checkout Spillway made for itself (the background health check), not a caller's.
   */
  checkout: [event: { connectionId: number; waitMs: number; shared?: boolean; exclusive?: boolean; internal?: boolean }];
  checkin: [event: { connectionId: number; heldMs: number; shared?: boolean; exclusive?: boolean }];
  invalidate: [event: { connectionId: number | undefined; reason: string; error?: unknown }];
  recycle: [event: { connectionId: number; ageMs: number }];
  close: [event: { connectionId: number; reason: CloseReason }];
  timeout: [event: { waitMs: number; waiting: number; internal?: boolean }];
  error: [error: unknown];
  leak: [event: { connectionId: number; heldMs: number; stack: string | undefined; poolName: string }];
  circuit: [event: { from: CircuitState; to: CircuitState }];
  alert: [event: { type: string; severity: 'critical' | 'warning'; message: string; at: number }];
}

export type CircuitState = 'closed' | 'open' | 'half-open';
export type PoolEventName = keyof PoolEventMap;
