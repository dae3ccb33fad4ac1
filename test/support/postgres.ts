import pg from 'pg';
import { POSTGRES_URL } from './databases.js';

/** A plain pg client for checking the server from outside the pool under test. */
export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Server connections whose application_name is the pool's (`spillway:<name>`). */
export async function serverConnections(poolName: string): Promise<number> {
  return withAdminClient(async (client) => {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [
      `spillway:${poolName}`,
    ]);
    return rows[0].n as number;
  });
}
