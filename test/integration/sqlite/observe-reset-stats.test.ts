import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/create-pool.js';
import { dialectSelected, uniqueName } from '../../support/databases.js';

/** One sample's value from Prometheus text, by metric name and pool (0 when absent). */
function sample(text: string, metric: string, pool: string, extraLabel = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`pool_name="${pool}"`) && l.includes(extraLabel));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('db.resetStats() starts stats() and the performance summary over; Prometheus counters keep counting', async (t) => {
  if (!dialectSelected('sqlite')) return t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
  const registry = new Registry();
  const name = uniqueName('reset');
  const db = createPool({ url: 'sqlite::memory:', name, env: {}, healthCheckIntervalMs: 0, metrics: { registry } });
  try {
    for (let i = 0; i < 20; i++) await db.query('SELECT ?', [i]);
    await assert.rejects(db.query('SELECT * FROM no_such_table'));
    const statsBefore = db.stats();
    const summaryBefore = db.observability?.performance();
    assert.ok(statsBefore.checkouts >= 21 && statsBefore.created >= 1);
    assert.equal(summaryBefore?.totals.queries, 21);
    assert.equal(summaryBefore?.totals.queryFailures, 1);
    const promBefore = await registry.metrics();
    const operationsBefore = sample(promBefore, 'db_client_operation_duration_seconds_count', name);
    const createdBefore = sample(promBefore, 'spillway_connections_created_total', name);
    const queryFailuresBefore = sample(promBefore, 'spillway_operation_failures_total', name, 'kind="query"');
    assert.equal(operationsBefore, 21);
    assert.equal(queryFailuresBefore, 1);

    const reset = db.resetStats();
    assert.equal(reset.pool, name);
    assert.deepEqual(reset.before.stats, statsBefore, 'the figures just before come back with the reset');
    assert.equal(reset.before.performance?.totals.queries, 21);

    // Spillway's own figures start over.
    const after = db.stats();
    assert.equal(after.checkouts, 0);
    assert.equal(after.created, 0);
    assert.ok(Object.values(after.closedByReason).every((n) => n === 0));
    const summary = db.observability?.performance();
    assert.equal(summary?.queryMs.count, 0);
    assert.equal(summary?.checkoutWaitMs.count, 0);
    assert.deepEqual(summary?.failureRates, { query: 0, checkout: 0 });
    assert.deepEqual(summary?.totals, {
      queries: 0,
      queryFailures: 0,
      checkouts: 0,
      applicationErrors: { constraint_violation: 0, data_exception: 0 },
    });
    assert.equal(summary?.since, reset.resetAt);
    assert.equal(db.statsSince, reset.resetAt);

    // Prometheus' counters and histograms are untouched, and keep growing from where they were.
    const promAfter = await registry.metrics();
    assert.equal(sample(promAfter, 'db_client_operation_duration_seconds_count', name), operationsBefore);
    assert.equal(sample(promAfter, 'spillway_connections_created_total', name), createdBefore);
    assert.equal(sample(promAfter, 'spillway_operation_failures_total', name, 'kind="query"'), queryFailuresBefore);
    for (let i = 0; i < 3; i++) await db.query('SELECT 1');
    assert.equal(db.stats().checkouts, 3);
    assert.equal(db.observability?.performance().totals.queries, 3);
    assert.equal(db.observability?.performance().totals.checkouts, 3);
    assert.equal(sample(await registry.metrics(), 'db_client_operation_duration_seconds_count', name), operationsBefore + 3);
  } finally {
    await db.close();
  }
});
