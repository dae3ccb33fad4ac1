import { withAdminClient } from './postgres.js';

/** Run one statement on a fresh connection of its own (outside any pool under test). */
export function adminQuery<R extends Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
  return withAdminClient(async (client) => (await client.query<R>(text, values)).rows);
}

/** Backend pids the server holds for the pool named `poolName` (application_name spillway:<name>). */
export async function backendPids(poolName: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid', [
    `spillway:${poolName}`,
  ]);
  return rows.map((r) => r.pid);
}

/** Per-connection count of shared statements in flight, from the pool's checkout/checkin events. */
export class InFlightCounter {
  readonly current = new Map<number, number>();
  /** The highest count seen on any one connection. */
  maxPerConnection = 0;
  /** Statements started, by connection. */
  readonly started = new Map<number, number>();

  readonly onCheckout = (event: { connectionId: number; shared?: boolean }): void => {
    if (!event.shared) return;
    const n = (this.current.get(event.connectionId) ?? 0) + 1;
    this.current.set(event.connectionId, n);
    this.started.set(event.connectionId, (this.started.get(event.connectionId) ?? 0) + 1);
    if (n > this.maxPerConnection) this.maxPerConnection = n;
  };

  readonly onCheckin = (event: { connectionId: number; shared?: boolean }): void => {
    if (!event.shared) return;
    this.current.set(event.connectionId, (this.current.get(event.connectionId) ?? 0) - 1);
  };
}
