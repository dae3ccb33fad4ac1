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
