import pg from 'pg';
import { createPool, type Database } from '../../src/index.js';
import { uniqueName } from './databases.js';
import type { LoadTarget } from './fault-load.js';

/** Settings the fault tests give Spillway: short timeouts so a scenario takes seconds, not minutes. */
export const FAULT_SETTINGS = {
  size: 5,
  maxOverflow: 5,
  checkoutTimeoutMs: 2000,
  statementTimeoutMs: 1000,
  connectTimeoutMs: 1000,
  leakThresholdMs: 0,
  circuit: { failureThreshold: 5, recoveryTimeoutMs: 500 },
  env: {},
} as const;

/** No call may take longer than this: checkout timeout + statement timeout + 1 s (the promise). */
export const CALL_BOUND_MS = FAULT_SETTINGS.checkoutTimeoutMs + FAULT_SETTINGS.statementTimeoutMs + 1000;
/** Added to the bound in assertions: these machines are shared and noisy. */
export const NOISE_MARGIN_MS = 2000;

/** A Spillway pool on `url` (any client/server dialect) writing into `table`, as a load target. */
export function spillwayTarget(
  url: string,
  table: string,
  overrides: { connectTimeoutMs?: number; circuit?: { failureThreshold: number; recoveryTimeoutMs: number } } = {},
): { db: Database; target: LoadTarget } {
  const db = createPool({ ...FAULT_SETTINGS, ...overrides, url, name: uniqueName('fault') });
  return {
    db,
    target: {
      name: 'spillway',
      select: () => db.query('SELECT 1'),
      insert: (id) => db.query(`INSERT INTO ${table} (id) VALUES (${db.dialect.placeholder(1)})`, [id]),
      close: () => db.close({ graceMs: 2000 }),
    },
  };
}

/** A direct client to the server (never through the proxy), for setup and checks. */
export async function adminClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'spillway-fault-admin' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Server connections still open for an application_name, polled until none are left or `waitMs` passes. */
export async function serverConnections(admin: pg.Client, applicationName: string, waitMs = 5000): Promise<number> {
  const until = Date.now() + waitMs;
  for (;;) {
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [
      applicationName,
    ]);
    const n = Number(rows[0]?.n ?? 0);
    if (n === 0 || Date.now() > until) return n;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Acknowledged ids missing from the table: lost writes. */
export async function lostWrites(admin: pg.Client, table: string, acked: readonly number[]): Promise<number[]> {
  const { rows } = await admin.query<{ id: number }>(`SELECT id FROM ${table}`);
  const present = new Set(rows.map((r) => Number(r.id)));
  return acked.filter((id) => !present.has(id));
}

/** Wait until `fn` succeeds, or fail with its last error after `waitMs`. */
export async function eventuallySucceeds(fn: () => Promise<unknown>, waitMs: number): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
