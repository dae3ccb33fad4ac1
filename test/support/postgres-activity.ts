import type pg from 'pg';
import { serverConnections, withAdminClient } from './postgres.js';

/** Run one statement on a fresh connection outside any pool under test (setup, cleanup, inspection). */
export function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
  return withAdminClient(async (client) => (await client.query<R>(text, values)).rows);
}

/** Wait (up to 5 s) until the server shows no connection of this pool: a backend exits just after its socket closes. */
export async function expectNoServerConnections(poolName: string): Promise<void> {
  let left = 0;
  for (let i = 0; i < 100; i++) {
    left = await serverConnections(poolName);
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${left} server connection(s) of pool ${poolName} are still open`);
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
