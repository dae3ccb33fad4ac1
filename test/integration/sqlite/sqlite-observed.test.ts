import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/create-pool.js';
import { sample } from '../../support/contract-metrics.js';

// SQLite statements run on the caller's stack (the dialect's querySync): they must still reach the
// metrics, the percentiles and the pool exactly as statements of asynchronous drivers do.
describe('sqlite: statements observed on the synchronous path', () => {
  it('counts every statement and failure, feeds checkout metrics and returns every reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-sqlite-observed-'));
    const registry = new Registry();
    const db = createPool({
      url: `sqlite:${join(dir, 'app.db')}`,
      name: 'observed',
      size: 2,
      healthCheckIntervalMs: 0,
      metrics: { registry },
      env: {},
    });
    try {
      await db.query('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
      await db.query("INSERT INTO items (id, name) VALUES (1, 'one'), (2, 'two')");
      const reads = await Promise.all(Array.from({ length: 30 }, (_, i) => db.query('SELECT name FROM items WHERE id = ?', [(i % 2) + 1])));
      assert.deepEqual(reads[0]?.rows, [{ name: 'one' }]);
      assert.deepEqual(reads[1]?.rows, [{ name: 'two' }]);
      await assert.rejects(db.query('SELECT * FROM no_such_table'), /no such table/);

      const text = await registry.metrics();
      const pool = { pool_name: 'observed' };
      assert.equal(sample(text, 'db_client_operation_duration_seconds_count', pool), 33, 'two writes, 30 reads, one failure');
      assert.equal(sample(text, 'spillway_operation_failures_total', { ...pool, kind: 'query' }), 1);
      // Checkout metrics are the reader pool's: 30 reads and the failed one.
      assert.equal(sample(text, 'db_client_connection_wait_time_seconds_count', pool), 31);
      assert.equal(sample(text, 'db_client_connection_use_time_seconds_count', pool), 31);
      assert.equal(sample(text, 'db_client_connection_count', { ...pool, state: 'used' }), 0);
      const performance = db.observability?.performance();
      assert.equal(performance?.totals.queries, 33);
      assert.equal(performance?.queryMs.count, 33);
      assert.equal(db.stats().invalidated, 0, 'a SQL error keeps the reader');
      assert.equal(db.status().checkedOut, 0);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
