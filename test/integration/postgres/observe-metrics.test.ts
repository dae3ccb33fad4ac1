import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/index.js';
import { CONTRACT_METRICS, sample } from '../../support/contract-metrics.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';

describe('metrics on PostgreSQL', () => {
  it('exports every contract metric with pool_name, fed by real traffic, and drops the series on close', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const registry = new Registry();
    const name = uniqueName('metrics');
    const db = createPool({
      url: POSTGRES_URL,
      name,
      size: 3,
      maxOverflow: 2,
      minIdle: 1,
      healthCheckIntervalMs: 0,
      metrics: { registry },
    });
    try {
      await Promise.all(Array.from({ length: 20 }, () => db.query('SELECT 1')));
      await db.query('SELECT * FROM no_such_table_here').catch(() => undefined);
      await db.withConnection(async (conn) => {
        await conn.query('SELECT 2');
      });
      await db.health();
      const text = await registry.metrics();
      for (const metric of CONTRACT_METRICS) {
        assert.match(text, new RegExp(`^# TYPE ${metric} `, 'm'), `${metric} is exported`);
        assert.match(text, new RegExp(`^${metric}(_bucket|_count|_sum)?\\{[^}]*pool_name="${name}"`, 'm'), `${metric} has pool_name`);
      }
      const pool = { pool_name: name };
      assert.equal(sample(text, 'db_client_operation_duration_seconds_count', pool), 22);
      assert.equal(sample(text, 'spillway_operation_failures_total', { ...pool, kind: 'query' }), 1);
      assert.equal(sample(text, 'db_client_connection_max', pool), 5);
      assert.equal(sample(text, 'db_client_connection_idle_min', pool), 1);
      assert.equal(sample(text, 'spillway_health_checks_total', { ...pool, result: 'success' }), 1);
      const created = sample(text, 'spillway_connections_created_total', pool) ?? 0;
      assert.ok(created >= 1 && created <= 5, `created ${created}`);
      assert.equal(sample(text, 'db_client_connection_create_time_seconds_count', pool), created);
      // Waits: 20 + 1 statements and the withConnection; the health check's checkout is internal, not a
      // caller's wait. Uses: those and the health check's.
      assert.equal(sample(text, 'db_client_connection_wait_time_seconds_count', pool), 22);
      assert.equal(sample(text, 'db_client_connection_use_time_seconds_count', pool), 23);
      assert.equal(sample(text, 'db_client_connection_wait_time_seconds_bucket', { ...pool, le: '+Inf' }), 22);
      assert.equal(sample(text, 'db_client_connection_count', { ...pool, state: 'used' }), 0);
    } finally {
      await db.close();
    }
    assert.doesNotMatch(await registry.metrics(), new RegExp(`pool_name="${name}"`), 'a closed pool leaves no series');
  });

  it('adds nothing to the query path when metrics and tracing are off', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('quiet'), healthCheckIntervalMs: 0, metrics: false, tracing: false });
    try {
      assert.equal(db.observer, undefined);
      assert.equal(db.pool.listenerCount('checkout'), 0);
      assert.equal(db.pool.listenerCount('checkin'), 0);
      assert.equal((await db.query('SELECT 1 AS one')).rows[0]?.one, 1);
    } finally {
      await db.close();
    }
  });
});
