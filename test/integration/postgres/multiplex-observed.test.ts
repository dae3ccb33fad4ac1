import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { InFlightCounter } from '../../support/postgres-activity.js';

/** One value of a metric from prom-client's JSON (`metricName` picks a histogram's `_count`; prom-client's types omit that field). */
async function metricValue(registry: Registry, name: string, metricName: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === metricName &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return value?.value ?? 0;
}

describe('PostgreSQL multiplexing: observed like any statement', () => {
  it('counts shared statements and their failures in the query metrics', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const registry = new Registry();
    const name = uniqueName('mux_observed');
    const db = createPool({
      url: POSTGRES_URL,
      name,
      size: 2,
      maxOverflow: 0,
      healthCheckIntervalMs: 0,
      multiplex: true,
      env: {},
      metrics: { registry },
    });
    const counter = new InFlightCounter();
    db.on('checkout', counter.onCheckout);
    try {
      await Promise.all(Array.from({ length: 20 }, () => db.query('SELECT pg_sleep(0.005)')));
      await assert.rejects(db.query('SELECT * FROM no_such_table_here'), { code: '42P01' });
      const shared = [...counter.started.values()].reduce((a, b) => a + b, 0);
      assert.equal(shared, 21, 'every statement went through the multiplexer');
      const pool = { pool_name: name };
      assert.equal(
        await metricValue(registry, 'db_client_operation_duration_seconds', 'db_client_operation_duration_seconds_count', pool),
        21,
      );
      assert.equal(
        await metricValue(registry, 'spillway_operation_failures_total', 'spillway_operation_failures_total', { ...pool, kind: 'query' }),
        1,
      );
      // Each statement counted once, by the mode it ran in: alone while its shape was unknown, then pipelined.
      const pipelined = await metricValue(registry, 'spillway_statements_total', 'spillway_statements_total', { ...pool, mode: 'shared' });
      const alone = await metricValue(registry, 'spillway_statements_total', 'spillway_statements_total', {
        ...pool,
        mode: 'exclusive',
      });
      assert.equal(pipelined + alone, 21);
      assert.ok(alone >= 2, `the first runs of each statement ran alone (${alone})`);
      assert.equal(pipelined, db.multiplexer?.status.sharedRuns);
      // The shape table in the performance summary, literals redacted.
      const summary = db.observability?.performance().multiplexer;
      assert.deepEqual(summary?.statements, { shared: pipelined, exclusive: alone });
      const sleep = summary?.shapes.find((shape) => shape.statement === 'SELECT pg_sleep(?)');
      assert.equal(sleep?.runs, 20);
      assert.equal(typeof sleep?.costMs, 'number');
    } finally {
      await db.close();
    }
  });
});
