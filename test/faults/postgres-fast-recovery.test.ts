import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type pg from 'pg';
import { proxyInFrontOf } from '../support/chaos-proxy.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminClient, CALL_BOUND_MS, loadThroughKillAndRestart, NOISE_MARGIN_MS, spillwayTarget } from '../support/fault-checks.js';
import { runLoad } from '../support/fault-load.js';
import { TempPostgres } from '../support/pg-cluster.js';

/**
 * Service resumes soon after a fault ends, whatever connectTimeoutMs and recoveryTimeoutMs say: those
 * are set long here (10 s and 30 s) so that waiting them out would fail the bound. The bound is
 * generous (these machines are noisy); bench/faults.ts measures the actual figure.
 */
const RECOVERY_BOUND_MS = 4000;

describe('recovery does not wait out connect or breaker timeouts', { timeout: 120_000 }, () => {
  let ready = false;
  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
  });

  it('blackhole: connects caught in it are replaced, not waited out for connectTimeoutMs', async (t) => {
    if (!ready) return t.skip('no server');
    const proxy = await proxyInFrontOf(POSTGRES_URL);
    const admin: pg.Client = await adminClient(POSTGRES_URL);
    const table = uniqueName('fault_writes');
    await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
    // connectTimeoutMs 10 s: attempts made during the 3 s blackhole would hold every slot for up to
    // 10 s after it ends. Checkout still bounds every call.
    const { db, target } = spillwayTarget(proxy.url(POSTGRES_URL), table, { connectTimeoutMs: 10_000 });
    try {
      const result = await runLoad(target, {
        callers: 20,
        warmupMs: 500,
        startFault: () => proxy.blackhole('drop'),
        faultMs: 3000,
        endFault: () => proxy.pass(),
        afterMs: RECOVERY_BOUND_MS + 1000,
        hangGraceMs: CALL_BOUND_MS + 3000,
      });
      const { acked, ...summary } = result;
      t.diagnostic(JSON.stringify({ ...summary, acked: acked.length, stats: db.stats() }));
      assert.equal(result.hung, 0, 'every call returned');
      assert.ok(result.longestMs <= CALL_BOUND_MS + NOISE_MARGIN_MS, `longest call ${Math.round(result.longestMs)}ms`);
      assert.ok(
        result.recoverMs !== undefined && result.recoverMs < RECOVERY_BOUND_MS,
        `service resumed ${result.recoverMs?.toFixed(0)} ms after the blackhole ended (bound ${RECOVERY_BOUND_MS} ms; connectTimeoutMs is 10 s)`,
      );
      assert.ok(db.stats().connectsAbandoned > 0, 'stuck connect attempts were replaced');
      assert.ok(db.status().total <= db.status().max);
    } finally {
      await db.close({ graceMs: 0 });
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
      await admin.end();
      await proxy.close();
    }
  });

  it('kill -9 and restart: the breaker probes the server and closes soon after it is back, not recoveryTimeoutMs later', async (t) => {
    if (!ready) return t.skip('no server');
    const cluster = await TempPostgres.start();
    const table = uniqueName('fault_writes');
    const admin: pg.Client = await adminClient(cluster.url);
    await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
    await admin.end();
    // recoveryTimeoutMs 30 s (the default): without the probe the first trial would come 30 s after
    // the breaker opened.
    const { db, target } = spillwayTarget(cluster.url, table, { circuit: { failureThreshold: 5, recoveryTimeoutMs: 30_000 } });
    const circuitChanges: string[] = [];
    db.on('circuit', ({ to }) => circuitChanges.push(to));
    try {
      const result = await loadThroughKillAndRestart(target, cluster, RECOVERY_BOUND_MS + 1000);
      const { acked, ...summary } = result;
      t.diagnostic(JSON.stringify({ ...summary, acked: acked.length, circuitChanges: circuitChanges.length }));
      assert.ok(circuitChanges.includes('open'), 'refused connects opened the breaker');
      assert.equal(result.hung, 0, 'every call returned');
      assert.ok(
        result.recoverMs !== undefined && result.recoverMs < RECOVERY_BOUND_MS,
        `service resumed ${result.recoverMs?.toFixed(0)} ms after the restart (bound ${RECOVERY_BOUND_MS} ms; recoveryTimeoutMs is 30 s)`,
      );
      assert.equal(db.circuit()?.state, 'closed');
    } finally {
      await db.close({ graceMs: 0 });
      await cluster.stop();
    }
  });
});
