import assert from 'node:assert/strict';
import pg from 'pg';
import { createPool, type Database } from '../../src/index.js';
import { uniqueName } from './databases.js';
import { type LoadResult, type LoadTarget, runLoad } from './fault-load.js';
import type { TempPostgres } from './pg-cluster.js';

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

/**
 * The two ways plain statements reach PostgreSQL: a connection each, or pipelined on shared
 * connections (multiplexing). The PostgreSQL fault tests run every scenario in both.
 */
export const FAULT_MODES = [
  { label: 'one statement per connection', multiplex: false },
  { label: 'multiplexed', multiplex: true },
] as const;

/**
 * The only ways a call may fail during a fault: a statement in flight on a broken or silent connection
 * fails CONNECTION_LOST or STATEMENT_TIMEOUT (RESULT_UNKNOWN for a write: it may have been applied);
 * a caller that gets no connection fails POOL_TIMEOUT, CIRCUIT_OPEN or CONNECT_TIMEOUT. Anything
 * else (a driver's raw error, "not queryable") breaks the contract.
 */
export const FAULT_ERROR_CODES: ReadonlySet<string> = new Set([
  'RESULT_UNKNOWN',
  'CONNECTION_LOST',
  'STATEMENT_TIMEOUT',
  'POOL_TIMEOUT',
  'CIRCUIT_OPEN',
  'CONNECT_TIMEOUT',
]);

/** A Spillway pool on `url` (any client/server dialect) writing into `table`, as a load target. */
export function spillwayTarget(
  url: string,
  table: string,
  overrides: { multiplex?: boolean; connectTimeoutMs?: number; circuit?: { failureThreshold: number; recoveryTimeoutMs: number } } = {},
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

/**
 * The writes table of a PostgreSQL scenario. No key on purpose: the writer never reuses an id, so an
 * id present twice is a statement sent twice (a key would turn that into an error nobody sees).
 */
export async function createWritesTable(admin: pg.Client, table: string): Promise<void> {
  await admin.query(`CREATE TABLE ${table} (id integer NOT NULL)`);
}

/** Ids present more than once: statements sent twice. */
export async function duplicateWrites(admin: pg.Client, table: string): Promise<number[]> {
  const { rows } = await admin.query<{ id: number }>(`SELECT id FROM ${table} GROUP BY id HAVING count(*) > 1 ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

/**
 * The rules every PostgreSQL fault scenario holds to, in either mode: no crash, every call returned
 * within its bound and failed only with a documented code, service came back, no server connection
 * left after close(), no acknowledged write lost and none sent twice. Closes `db`; `url` reaches the
 * server directly (not through the fault) for the checks of `table`.
 */
export async function assertFaultRules(db: Database, result: LoadResult, url: string, table: string): Promise<void> {
  assert.equal(db.pool.listenerCount('error'), 0, 'no error listener: a crash would end this test');
  assert.equal(result.hung, 0, 'every call returned');
  assert.ok(
    result.longestMs <= CALL_BOUND_MS + NOISE_MARGIN_MS,
    `longest call ${Math.round(result.longestMs)}ms, bound ${CALL_BOUND_MS}ms`,
  );
  assert.deepEqual(
    Object.keys(result.errors).filter((code) => !FAULT_ERROR_CODES.has(code)),
    [],
    `calls failed only with ${[...FAULT_ERROR_CODES].join(', ')} (errors: ${JSON.stringify(result.errors)})`,
  );
  assert.ok(result.recoverMs !== undefined, `calls succeed again after the fault (errors: ${JSON.stringify(result.errors)})`);
  await eventuallySucceeds(() => db.query('SELECT 1'), 5000);
  assert.ok(result.acked.length > 0, 'the writer wrote');
  await db.close({ graceMs: 2000 });
  const admin = await adminClient(url);
  try {
    assert.equal(await serverConnections(admin, `spillway:${db.name}`), 0, 'no server connection left after close()');
    assert.deepEqual(await lostWrites(admin, table, result.acked), [], 'every acknowledged insert is in the table');
    assert.deepEqual(await duplicateWrites(admin, table), [], 'no insert was sent twice');
  } finally {
    await admin.end();
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

/** The kill -9 scenario's load: 20 callers; the server killed after 0.5 s, restarted 1.5 s later. */
export function loadThroughKillAndRestart(target: LoadTarget, server: TempPostgres, afterMs: number): Promise<LoadResult> {
  return runLoad(target, {
    callers: 20,
    warmupMs: 500,
    startFault: () => server.kill9(),
    faultMs: 1500,
    endFault: () => server.restart(),
    afterMs,
    hangGraceMs: CALL_BOUND_MS + 3000,
  });
}
