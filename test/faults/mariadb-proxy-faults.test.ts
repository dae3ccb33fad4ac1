import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { type ChaosProxy, proxyInFrontOf } from '../support/chaos-proxy.js';
import { MYSQL_URL, requireServer, uniqueName } from '../support/databases.js';
import { CALL_BOUND_MS, eventuallySucceeds, NOISE_MARGIN_MS, spillwayTarget } from '../support/fault-checks.js';
import { type LoadOptions, runLoad } from '../support/fault-load.js';

// The same faults as on PostgreSQL, on MariaDB through the chaos proxy. Every connection of the pool
// goes through the proxy, so "no connection left after close()" is read there.
describe('MariaDB through a chaos proxy: 20 callers and a writer', { timeout: 120_000 }, () => {
  let proxy: ChaosProxy;
  let admin: mysql.Connection;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, MYSQL_URL, 'mysql');
    if (!ready) return;
    proxy = await proxyInFrontOf(MYSQL_URL);
    admin = await mysql.createConnection(MYSQL_URL);
  });

  after(async () => {
    if (!ready) return;
    await proxy.close();
    await admin.end();
  });

  async function scenario(
    t: { diagnostic(message: string): void },
    fault: Pick<LoadOptions, 'startFault' | 'endFault' | 'faultMs'>,
    overrides: Parameters<typeof spillwayTarget>[2] = {},
  ) {
    const table = uniqueName('fault_writes');
    await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
    const { db, target } = spillwayTarget(proxy.url(MYSQL_URL), table, overrides);
    try {
      const result = await runLoad(target, { callers: 20, warmupMs: 500, afterMs: 2500, hangGraceMs: CALL_BOUND_MS + 3000, ...fault });
      const { acked, ...summary } = result;
      const stats = db.stats();
      t.diagnostic(
        JSON.stringify({ ...summary, acked: acked.length, circuit: db.circuit()?.state, connectsAbandoned: stats.connectsAbandoned }),
      );
      assert.equal(db.pool.listenerCount('error'), 0, 'no error listener: a crash would end this test');
      assert.equal(result.hung, 0, 'every call returned');
      assert.ok(
        result.longestMs <= CALL_BOUND_MS + NOISE_MARGIN_MS,
        `longest call ${Math.round(result.longestMs)}ms, bound ${CALL_BOUND_MS}ms`,
      );
      assert.ok(result.recoverMs !== undefined, `calls succeed again after the fault (errors: ${JSON.stringify(result.errors)})`);
      await eventuallySucceeds(() => db.query('SELECT 1'), 5000);
      assert.ok(acked.length > 0, 'the writer wrote');
      await db.close({ graceMs: 2000 });
      const until = Date.now() + 5000;
      while (proxy.connections > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(proxy.connections, 0, 'no connection of the pool left after close()');
      const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id FROM ${table}`);
      const present = new Set(rows.map((r) => Number(r.id)));
      assert.deepEqual(
        acked.filter((id) => !present.has(id)),
        [],
        'every acknowledged insert is in the table',
      );
      return { result, stats };
    } finally {
      await db.close({ graceMs: 0 });
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }

  it('blackhole: every call fails within its bound, service resumes when traffic passes', async (t) => {
    if (!ready) return t.skip('no server');
    await scenario(t, { startFault: () => proxy.blackhole('drop'), faultMs: 3500, endFault: () => proxy.pass() });
  });

  it('blackhole with a 10 s connect timeout: connects caught in it are replaced, service resumes within seconds', async (t) => {
    if (!ready) return t.skip('no server');
    // Waiting out the stuck attempts would take up to 10 s after the blackhole ends; the bound is generous.
    const { result, stats } = await scenario(
      t,
      { startFault: () => proxy.blackhole('drop'), faultMs: 3000, endFault: () => proxy.pass() },
      { connectTimeoutMs: 10_000 },
    );
    assert.ok(
      result.recoverMs !== undefined && result.recoverMs < 2500,
      `service resumed ${result.recoverMs?.toFixed(0)} ms after the blackhole`,
    );
    assert.ok(stats.connectsAbandoned > 0, 'stuck connect attempts were cut and replaced');
  });

  it('reset of every connection: the pool discards them and serves again', async (t) => {
    if (!ready) return t.skip('no server');
    await scenario(t, { startFault: () => proxy.resetAll(), faultMs: 0, endFault: () => undefined });
  });
});
