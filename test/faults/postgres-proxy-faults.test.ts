import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { type ChaosProxy, proxyInFrontOf } from '../support/chaos-proxy.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminClient, assertFaultRules, CALL_BOUND_MS, createWritesTable, FAULT_MODES, spillwayTarget } from '../support/fault-checks.js';
import { type LoadOptions, type LoadResult, runLoad } from '../support/fault-load.js';

// Faults on the network between the pool and the shared PostgreSQL: a TCP proxy on loopback that
// blackholes, resets or delays, and pg_terminate_backend on the pool's own backends only. Every
// scenario runs with a connection per statement and with multiplexing (statements pipelined on
// shared connections), against the same rules (assertFaultRules).
describe('PostgreSQL through a chaos proxy: 20 callers and a writer', { timeout: 240_000 }, () => {
  let proxy: ChaosProxy;
  let admin: pg.Client;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    proxy = await proxyInFrontOf(POSTGRES_URL);
    admin = await adminClient(POSTGRES_URL);
  });

  after(async () => {
    if (!ready) return;
    await proxy.close();
    await admin.end();
  });

  type Fault = Pick<LoadOptions, 'startFault' | 'endFault' | 'faultMs'>;
  async function scenario(
    t: { diagnostic(message: string): void },
    multiplex: boolean,
    makeFault: (applicationName: string) => Fault,
  ): Promise<LoadResult> {
    const table = uniqueName('fault_writes');
    await createWritesTable(admin, table);
    const { db, target } = spillwayTarget(proxy.url(POSTGRES_URL), table, { multiplex });
    try {
      const fault = makeFault(`spillway:${db.name}`);
      const result = await runLoad(target, { callers: 20, warmupMs: 500, afterMs: 2500, hangGraceMs: CALL_BOUND_MS + 3000, ...fault });
      const { acked, ...summary } = result;
      t.diagnostic(JSON.stringify({ multiplex, ...summary, acked: acked.length, circuit: db.circuit()?.state }));
      await assertFaultRules(db, result, POSTGRES_URL, table);
      return result;
    } finally {
      proxy.latencyMs = 0;
      proxy.pass();
      await db.close({ graceMs: 0 });
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  for (const { label, multiplex } of FAULT_MODES) {
    it(`${label}: blackhole: every call fails within its bound, service resumes when traffic passes`, async (t) => {
      if (!ready) return t.skip('no server');
      const result = await scenario(t, multiplex, () => ({
        startFault: () => proxy.blackhole(),
        faultMs: 3500,
        endFault: () => proxy.pass(),
      }));
      assert.ok((result.errors.STATEMENT_TIMEOUT ?? 0) + (result.errors.POOL_TIMEOUT ?? 0) + (result.errors.CIRCUIT_OPEN ?? 0) > 0);
    });

    it(`${label}: reset of every connection: the pool discards them and serves again`, async (t) => {
      if (!ready) return t.skip('no server');
      await scenario(t, multiplex, () => ({ startFault: () => proxy.resetAll(), faultMs: 0, endFault: () => undefined }));
    });

    it(`${label}: pg_terminate_backend on the pool's backends: the pool discards them and serves again`, async (t) => {
      if (!ready) return t.skip('no server');
      let terminated = 0;
      await scenario(t, multiplex, (applicationName) => ({
        startFault: async () => {
          const { rows } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
            applicationName,
          ]);
          terminated = rows.length;
        },
        faultMs: 0,
        endFault: () => undefined,
      }));
      // Whether a statement was in flight on a killed backend at that instant is luck (a multiplexed
      // pool sends idle connections home); the rules above say how such statements may fail.
      assert.ok(terminated > 0, 'backends were found and terminated');
    });

    it(`${label}: 150 ms of added latency each way: calls slow down, none fails outside the rules`, async (t) => {
      if (!ready) return t.skip('no server');
      const result = await scenario(t, multiplex, () => ({
        startFault: () => {
          proxy.latencyMs = 150;
        },
        faultMs: 2000,
        endFault: () => {
          proxy.latencyMs = 0;
        },
      }));
      assert.ok(result.ok > 0, 'calls succeeded');
    });
  }
});
