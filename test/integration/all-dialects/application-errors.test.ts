import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/create-pool.js';
import type { Database } from '../../../src/database.js';
import { uniqueName } from '../../support/databases.js';
import { dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

/** spillway_operation_failures_total{kind} of one pool, read from the registry as Prometheus would. */
async function failuresByKind(registry: Registry, pool: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric('spillway_operation_failures_total');
  assert.ok(metric !== undefined, 'the failures counter is registered');
  const byKind: Record<string, number> = {};
  for (const { labels, value } of (await metric.get()).values) {
    if (labels.pool_name === pool) byKind[String(labels.kind)] = value;
  }
  return byKind;
}

async function rejects(promise: Promise<unknown>): Promise<void> {
  await promise.then(
    () => assert.fail('the statement must fail'),
    () => undefined,
  );
}

function failureRateAlerted(report: Awaited<ReturnType<Database['health']>>): boolean {
  return report.alerts.active.some((a) => a.type === 'query_failure_rate') || report.reasons.some((r) => /failure rate/.test(r));
}

// "Any caller can page on-call": a unique violation or a bad value is the application's business,
// not the database's health. Counted apart, never in the failure-rate alert or a degraded health.
for (const fixture of dialectFixtures()) {
  describe(`application errors on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it('constraint violations and data exceptions are counted apart, outside the failure-rate alert and health', async (t) => {
      if (!(await fixture.ready(t))) return;
      const registry = new Registry();
      const name = uniqueName('apperr');
      const db = createPool({
        url: fixture.url(),
        name,
        size: 2,
        maxOverflow: 0,
        healthCheckIntervalMs: 0,
        metrics: { registry },
        alerts: { minQueries: 20, queryFailureRate: 0.05 },
        env: {},
      });
      const table = uniqueName('apperr_rows');
      try {
        await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
        await db.query(`INSERT INTO ${table} (id) VALUES (1)`);
        for (let i = 0; i < 28; i++) await db.query('SELECT 1 AS one');
        // 3 unique violations in 35 statements used to raise the critical alert and "degraded".
        for (let i = 0; i < 2; i++) await rejects(db.query(`INSERT INTO ${table} (id) VALUES (1)`));
        await rejects(db.transaction((tx) => tx.query(`INSERT INTO ${table} (id) VALUES (1)`)));
        for (let i = 0; i < 2; i++) await rejects(db.query(fixture.dataExceptionSql));

        const calm = await db.health();
        assert.equal(failureRateAlerted(calm), false, `no failure-rate alert or reason: ${calm.reasons.join('; ')}`);
        const perf = db.observability?.performance();
        assert.equal(perf?.failureRates.query, 0);
        assert.deepEqual(perf?.totals.applicationErrors, { constraint_violation: 3, data_exception: 2 });
        assert.equal(perf?.totals.queryFailures, 0);
        const kinds = await failuresByKind(registry, name);
        assert.deepEqual([kinds.query, kinds.constraint_violation, kinds.data_exception], [0, 3, 2], JSON.stringify(kinds));

        // Real failures still count, and still alert: 3 syntax errors in 38 statements.
        for (let i = 0; i < 3; i++) await rejects(db.query('SELEC 1'));
        const alarmed = await db.health();
        assert.equal(failureRateAlerted(alarmed), true, 'a failure rate above 5% alerts');
        assert.equal((await failuresByKind(registry, name)).query, 3);
      } finally {
        await dropTable(db, table);
        await db.close();
      }
    });
  });
}
