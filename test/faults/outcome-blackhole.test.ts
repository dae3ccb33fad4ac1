import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/index.js';
import { createPool } from '../../src/index.js';
import { type ChaosProxy, proxyInFrontOf } from '../support/chaos-proxy.js';
import { MYSQL_URL, POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminPool, misclassified, OUTCOME_SETTINGS, presentCounts, tally, writeThroughFaults } from '../support/outcome-writes.js';

// Thousands of autocommit INSERTs through blackholes and resets; afterwards every failed write's
// `outcome` is checked against the table: a 'not-sent' or 'rejected' write must never be there, an
// 'unknown' one may be. Acknowledged writes must be there exactly once, and no id twice.
const TARGETS = [
  { label: 'PostgreSQL, one statement per connection', url: POSTGRES_URL, dialect: 'postgres', multiplex: false },
  { label: 'PostgreSQL, multiplexed', url: POSTGRES_URL, dialect: 'postgres', multiplex: true },
  { label: 'MariaDB', url: MYSQL_URL, dialect: 'mysql', multiplex: false },
] as const;

for (const target of TARGETS) {
  describe(`outcome of failed writes through faults: ${target.label}`, { timeout: 180_000 }, () => {
    let ready = false;
    let proxy: ChaosProxy;
    let admin: Database;

    before(async (t) => {
      ready = await requireServer(t as never, target.url, target.dialect);
      if (!ready) return;
      proxy = await proxyInFrontOf(target.url);
      admin = adminPool(target.url);
    });

    after(async () => {
      if (!ready) return;
      await proxy.close();
      await admin.close();
    });

    it('zero misclassified: not-sent and rejected writes are absent, unknown ones are RESULT_UNKNOWN', async (t) => {
      if (!ready) return t.skip('no server');
      const table = uniqueName('outcome_writes');
      // No key: an id twice is a write sent twice. The CHECK makes the server refuse some writes.
      await admin.query(`CREATE TABLE ${table} (id integer NOT NULL CHECK (id > 0))`);
      const db = createPool({ ...OUTCOME_SETTINGS, url: proxy.url(target.url), name: uniqueName('outcome'), multiplex: target.multiplex });
      try {
        const result = await writeThroughFaults(db, proxy, table, {
          writers: 8,
          minWrites: 3000,
          minCycles: 6,
          passMs: 400,
          faultMs: 2500,
        });
        await db.close({ graceMs: 2000 });
        const present = await presentCounts(admin, table);
        const { outcomes, codes } = tally(result.failed);
        t.diagnostic(
          JSON.stringify({
            target: target.label,
            attempted: result.attempted,
            acked: result.acked.length,
            cycles: result.cycles,
            outcomes,
            codes,
          }),
        );
        assert.deepEqual(misclassified(result.failed, present).slice(0, 10), [], 'no failed write contradicted by the table');
        assert.deepEqual(
          result.acked.filter((id) => present.get(id) !== 1),
          [],
          'every acknowledged write is present exactly once',
        );
        assert.deepEqual(
          [...present].filter(([, n]) => n > 1).map(([id]) => id),
          [],
          'no write applied twice',
        );
        assert.deepEqual(
          result.failed.filter((f) => f.outcome === 'unknown' && f.code !== 'RESULT_UNKNOWN').slice(0, 5),
          [],
          'a write whose answer was lost says RESULT_UNKNOWN',
        );
        assert.ok((outcomes['not-sent'] ?? 0) > 0, 'the faults failed some writes before they were sent');
        assert.ok((outcomes.rejected ?? 0) > 0, 'the server refused the writes that break the CHECK');
        assert.ok((outcomes.unknown ?? 0) > 0, 'the faults caught some writes in flight');
      } finally {
        proxy.pass();
        await db.close({ graceMs: 0 });
        await admin.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });
  });
}
