import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Database } from '../../src/index.js';
import { createPool } from '../../src/index.js';
import { type ChaosProxy, proxyInFrontOf } from '../support/chaos-proxy.js';
import { MYSQL_URL, POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminPool, misclassified, OUTCOME_SETTINGS, presentCounts, tally, writeThroughFaults } from '../support/outcome-writes.js';
import { freeLoopbackPort } from '../support/ports.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Failures before anything is sent, the server's refusals, and `retry` through real outages.
for (const target of [
  { label: 'PostgreSQL', url: POSTGRES_URL, dialect: 'postgres' },
  { label: 'MariaDB', url: MYSQL_URL, dialect: 'mysql' },
] as const) {
  describe(`outcome and retry: ${target.label}`, { timeout: 180_000 }, () => {
    let ready = false;
    let admin: Database;
    let proxy: ChaosProxy;

    before(async (t) => {
      ready = await requireServer(t as never, target.url, target.dialect);
      if (!ready) return;
      admin = adminPool(target.url);
      proxy = await proxyInFrontOf(target.url);
    });

    after(async () => {
      if (!ready) return;
      await proxy.close();
      await admin.close();
    });

    it('a checkout timeout is not-sent', async (t) => {
      if (!ready) return t.skip('no server');
      const db = createPool({
        url: target.url,
        name: uniqueName('outcome'),
        size: 1,
        maxOverflow: 0,
        checkoutTimeoutMs: 200,
        multiplex: false,
        env: {},
      });
      try {
        const held = await db.acquire({ timeoutMs: 10_000 }); // connecting may take longer than 200 ms on a loaded machine
        await assert.rejects(db.query('SELECT 1'), { code: 'POOL_TIMEOUT', outcome: 'not-sent' });
        await assert.rejects(
          db.transaction(async (tx) => tx.query('SELECT 1')),
          { code: 'POOL_TIMEOUT', outcome: 'not-sent' },
        );
        held.release();
      } finally {
        await db.close();
      }
    });

    it('connect refused, then the open breaker, are not-sent', async (t) => {
      if (!ready) return t.skip('no server');
      const url = new URL(target.url);
      url.port = String(await freeLoopbackPort()); // nothing listens there
      const db = createPool({
        url: url.toString(),
        name: uniqueName('outcome'),
        connectTimeoutMs: 1000,
        checkoutTimeoutMs: 2000,
        circuit: { failureThreshold: 2, recoveryTimeoutMs: 60_000 },
        multiplex: false,
        env: {},
      });
      try {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) {
          const error = await db.query('INSERT INTO nowhere VALUES (1)').then(
            () => assert.fail('no server listens'),
            (e: unknown) => e as { code: string; outcome: string },
          );
          assert.equal(error.outcome, 'not-sent', `${error.code} is not-sent`);
          seen.add(error.code);
        }
        assert.ok(seen.has('CIRCUIT_OPEN'), `the breaker opened (codes seen: ${[...seen].join(', ')})`);
        assert.ok(
          [...seen].some((code) => code !== 'CIRCUIT_OPEN'),
          'the refusals themselves were seen',
        );
      } finally {
        await db.close();
      }
    });

    it('a unique violation is rejected, with the driver error passed through', async (t) => {
      if (!ready) return t.skip('no server');
      const table = uniqueName('outcome_unique');
      await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
      const db = createPool({ url: target.url, name: uniqueName('outcome'), size: 2, env: {} });
      try {
        await db.query(`INSERT INTO ${table} (id) VALUES (1)`);
        const error = await db.query(`INSERT INTO ${table} (id) VALUES (1)`).then(
          () => assert.fail('duplicate accepted'),
          (e: unknown) => e as Record<string, unknown>,
        );
        assert.equal(error.outcome, 'rejected');
        if (target.dialect === 'postgres') assert.deepEqual([error.code, error.constraint], ['23505', `${table}_pkey`]);
        else assert.deepEqual([error.code, error.errno], ['ER_DUP_ENTRY', 1062]);
        const inTransaction = await db
          .transaction(async (tx) => tx.query(`INSERT INTO ${table} (id) VALUES (1)`))
          .then(
            () => assert.fail('duplicate accepted'),
            (e: unknown) => e as Record<string, unknown>,
          );
        assert.equal(inTransaction.outcome, 'rejected');
      } finally {
        await db.close();
        await admin.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });

    it('retry turns reads failed by an outage shorter than the deadline into successes', async (t) => {
      if (!ready) return t.skip('no server');
      for (const multiplex of target.dialect === 'postgres' ? [false, true] : [false]) {
        const db = createPool({ ...OUTCOME_SETTINGS, url: proxy.url(target.url), name: uniqueName('outcome'), multiplex });
        try {
          let stop = false;
          let reads = 0;
          const failures: string[] = [];
          const reader = async () => {
            while (!stop) {
              try {
                // A read may run twice harmlessly: idempotent lets retry resend one whose answer was lost.
                await db.query('SELECT 1', {
                  retry: { attempts: 100, backoffMs: 20, maxBackoffMs: 200, deadlineMs: 10_000 },
                  idempotent: true,
                });
                reads++;
              } catch (error) {
                failures.push(String((error as { code?: unknown }).code));
              }
            }
          };
          const readers = Array.from({ length: 6 }, reader);
          for (const fault of [() => proxy.blackhole('delay'), () => proxy.blackhole('drop'), () => proxy.resetAll()]) {
            await sleep(300);
            fault();
            await sleep(2000); // shorter than the 10 s deadline
            proxy.pass();
          }
          await sleep(500);
          stop = true;
          await Promise.all(readers);
          t.diagnostic(JSON.stringify({ multiplex, reads, failures: failures.length, retries: db.retryCounts }));
          assert.deepEqual(failures, [], 'no read failed');
          assert.ok(reads > 0);
          assert.ok(Object.values(db.retryCounts).reduce((a, b) => a + b, 0) > 0, 'the outages were retried through');
        } finally {
          proxy.pass();
          await db.close({ graceMs: 0 });
        }
      }
    });

    it('retry never writes twice: only not-sent writes are sent again', async (t) => {
      if (!ready) return t.skip('no server');
      const table = uniqueName('outcome_retry_writes');
      await admin.query(`CREATE TABLE ${table} (id integer NOT NULL CHECK (id > 0))`); // no key: an id twice is a write sent twice
      const db = createPool({
        ...OUTCOME_SETTINGS,
        url: proxy.url(target.url),
        name: uniqueName('outcome'),
        multiplex: target.dialect === 'postgres',
      });
      try {
        const result = await writeThroughFaults(db, proxy, table, {
          writers: 6,
          minWrites: 1000,
          minCycles: 3,
          passMs: 400,
          faultMs: 2000,
          retry: true,
          // Whether a fault leaves a write unsent depends on timing (with multiplexing, queued writes
          // often just wait the outage out), so the pool is also exhausted once past checkoutTimeoutMs:
          // the writes waiting then fail not-sent (POOL_TIMEOUT), which retry must send again.
          lastly: async () => {
            const held = await Promise.all(
              Array.from({ length: OUTCOME_SETTINGS.size + OUTCOME_SETTINGS.maxOverflow }, () => db.acquire()),
            );
            await sleep(OUTCOME_SETTINGS.checkoutTimeoutMs * 1.5);
            for (const session of held) session.release();
          },
        });
        await db.close({ graceMs: 2000 });
        const present = await presentCounts(admin, table);
        t.diagnostic(
          JSON.stringify({ attempted: result.attempted, acked: result.acked.length, ...tally(result.failed), retries: db.retryCounts }),
        );
        assert.deepEqual(
          [...present].filter(([, n]) => n > 1),
          [],
          'no write applied twice',
        );
        assert.deepEqual(
          result.acked.filter((id) => present.get(id) !== 1),
          [],
          'every acknowledged write is there once',
        );
        assert.deepEqual(misclassified(result.failed, present), [], 'no failed write contradicted by the table');
        assert.ok(db.retryCounts.not_sent > 0, 'writes not sent were retried');
        assert.equal(db.retryCounts.unknown, 0, 'a write whose answer was lost is never retried');
      } finally {
        proxy.pass();
        await db.close({ graceMs: 0 });
        await admin.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });

    it('two serializable transactions in conflict both commit with retry, totals correct', async (t) => {
      if (!ready) return t.skip('no server');
      const table = uniqueName('outcome_counter');
      await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, v integer NOT NULL)`);
      await admin.query(`INSERT INTO ${table} (id, v) VALUES (1, 0)`);
      const registry = new Registry();
      const db = createPool({ url: target.url, name: uniqueName('outcome'), size: 4, lockTimeoutMs: 5000, metrics: { registry }, env: {} });
      const p = db.dialect.placeholder(1);
      try {
        // Read, wait until the other has read too (first attempts only), then write what was read plus one:
        // both cannot commit as they are, so the server rolls one back (40001, or a deadlock on MariaDB).
        const run = async (retry: boolean) => {
          let arrived = 0;
          let bothRead: () => void = () => undefined;
          const barrier = new Promise<void>((resolve) => {
            bothRead = resolve;
          });
          const increment = () => {
            let attempt = 0;
            return db.transaction(
              async (tx) => {
                const { rows } = await tx.query<{ v: number }>(`SELECT v FROM ${table} WHERE id = 1`);
                if (++attempt === 1) {
                  if (++arrived === 2) bothRead();
                  await barrier;
                }
                await tx.query(`UPDATE ${table} SET v = ${p} WHERE id = 1`, [Number(rows[0]?.v) + 1]);
              },
              { isolation: 'serializable', ...(retry ? { retry: { attempts: 10, backoffMs: 10 } } : {}) },
            );
          };
          return Promise.allSettled([increment(), increment()]);
        };
        const without = await run(false);
        const failed = without
          .filter((r) => r.status === 'rejected')
          .map((r) => (r as PromiseRejectedResult).reason as Record<string, unknown>);
        assert.equal(failed.length, 1, 'without retry one transaction is rolled back');
        assert.equal(failed[0]?.outcome, 'rejected');
        assert.ok(db.dialect.transactionConflict?.(failed[0]) !== undefined, `a conflict: ${String(failed[0]?.code)}`);
        await admin.query(`UPDATE ${table} SET v = 0 WHERE id = 1`);

        const withRetry = await run(true);
        assert.deepEqual(
          withRetry.map((r) => r.status),
          ['fulfilled', 'fulfilled'],
        );
        const { rows } = await admin.query<{ v: number }>(`SELECT v FROM ${table} WHERE id = 1`);
        assert.equal(Number(rows[0]?.v), 2, 'both increments counted');
        const conflicts = db.retryCounts.serialization + db.retryCounts.deadlock + db.retryCounts.lock_timeout;
        assert.ok(conflicts >= 1, `the conflict was retried (${JSON.stringify(db.retryCounts)})`);
        const exposition = await registry.getSingleMetricAsString('spillway_retries_total');
        const counted = [...exposition.matchAll(/reason="(serialization|deadlock|lock_timeout)"\} (\d+)/g)].reduce(
          (n, m) => n + Number(m[2]),
          0,
        );
        assert.equal(counted, conflicts, 'spillway_retries_total{reason} shows them');
      } finally {
        await db.close();
        await admin.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });
  });
}
