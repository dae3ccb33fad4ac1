import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { ChaosProxy } from '../support/chaos-proxy.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import {
  adminClient,
  CALL_BOUND_MS,
  eventuallySucceeds,
  lostWrites,
  NOISE_MARGIN_MS,
  serverConnections,
  spillwayTarget,
} from '../support/fault-checks.js';
import { type LoadOptions, runLoad } from '../support/fault-load.js';

// Faults on the network between the pool and the shared PostgreSQL: a TCP proxy on loopback that
// blackholes or resets, and pg_terminate_backend on the pool's own backends only.
describe('PostgreSQL through a chaos proxy: 20 callers and a writer', { timeout: 120_000 }, () => {
  let proxy: ChaosProxy;
  let admin: pg.Client;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    const upstream = new URL(POSTGRES_URL);
    proxy = new ChaosProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    await proxy.start();
    admin = await adminClient(POSTGRES_URL);
  });

  after(async () => {
    if (!ready) return;
    await proxy.close();
    await admin.end();
  });

  type Fault = Pick<LoadOptions, 'startFault' | 'endFault' | 'faultMs'>;
  async function scenario(t: { diagnostic(message: string): void }, makeFault: (applicationName: string) => Fault) {
    const table = uniqueName('fault_writes');
    await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
    const { db, target } = spillwayTarget(proxy.url(POSTGRES_URL), table);
    const applicationName = `spillway:${db.name}`;
    try {
      const fault = makeFault(applicationName);
      const result = await runLoad(target, { callers: 20, warmupMs: 500, afterMs: 2500, hangGraceMs: CALL_BOUND_MS + 3000, ...fault });
      const { acked, ...summary } = result;
      t.diagnostic(JSON.stringify({ ...summary, acked: acked.length, circuit: db.circuit()?.state }));
      assert.equal(db.pool.listenerCount('error'), 0, 'no error listener: a crash would end this test');
      assert.equal(result.hung, 0, 'every call returned');
      assert.ok(
        result.longestMs <= CALL_BOUND_MS + NOISE_MARGIN_MS,
        `longest call ${Math.round(result.longestMs)}ms, bound ${CALL_BOUND_MS}ms`,
      );
      assert.ok(result.recoverMs !== undefined, `calls succeed again after the fault (errors: ${JSON.stringify(result.errors)})`);
      await eventuallySucceeds(() => db.query('SELECT 1'), 5000);
      assert.ok(result.acked.length > 0, 'the writer wrote');
      await db.close({ graceMs: 2000 });
      assert.equal(await serverConnections(admin, applicationName), 0, 'no server connection left after close()');
      assert.deepEqual(await lostWrites(admin, table, result.acked), [], 'every acknowledged insert is in the table');
      return result;
    } finally {
      await db.close({ graceMs: 0 });
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  it('blackhole: every call fails within its bound, service resumes when traffic passes', async (t) => {
    if (!ready) return t.skip('no server');
    const result = await scenario(t, () => ({ startFault: () => proxy.blackhole(), faultMs: 3500, endFault: () => proxy.pass() }));
    assert.ok((result.errors.STATEMENT_TIMEOUT ?? 0) + (result.errors.POOL_TIMEOUT ?? 0) + (result.errors.CIRCUIT_OPEN ?? 0) > 0);
  });

  it('reset of every connection: the pool discards them and serves again', async (t) => {
    if (!ready) return t.skip('no server');
    await scenario(t, () => ({ startFault: () => proxy.resetAll(), faultMs: 0, endFault: () => undefined }));
  });

  it("pg_terminate_backend on the pool's backends: the pool discards them and serves again", async (t) => {
    if (!ready) return t.skip('no server');
    let terminated = 0;
    await scenario(t, (applicationName) => ({
      startFault: async () => {
        const { rows } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          applicationName,
        ]);
        terminated = rows.length;
      },
      faultMs: 0,
      endFault: () => undefined,
    }));
    assert.ok(terminated > 0, 'backends were found and terminated');
  });
});
