import pg from 'pg';
import { POSTGRES_URL } from './databases.js';

/** Run one statement on a fresh connection outside any pool under test (setup, cleanup, inspection). */
export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'spillway-test-admin' });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Server backends opened under this application_name: what a pool left behind. */
export async function backendsNamed(applicationName: string): Promise<number> {
  const rows = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [
    applicationName,
  ]);
  return rows[0]?.n ?? 0;
}

/** Wait (up to 5 s) until the server shows no backend under this name: a backend exits just after its socket closes. */
export async function expectNoBackends(applicationName: string): Promise<void> {
  let left = 0;
  for (let i = 0; i < 100; i++) {
    left = await backendsNamed(applicationName);
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${left} server backend(s) named ${applicationName} are still open`);
}
