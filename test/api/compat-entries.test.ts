import assert from 'node:assert/strict';
import { test } from 'node:test';

// Imports the built drop-in entry points by name, the way users do (npm test builds first).
test('spillway/pg exports Pool, a class named Pool (Drizzle recognises pools by that name)', async () => {
  const { Pool } = await import('spillway/pg');
  assert.equal(Pool.name, 'Pool');
  const pool = new Pool({ host: '127.0.0.1', user: 'nobody', max: 2 });
  assert.equal(pool.totalCount, 0, 'constructing a pool connects nothing');
  assert.equal(typeof pool.spillway.status, 'function');
  await pool.end();
  assert.equal(pool.ended, true);
});

test('spillway/mysql exports createPool with mysql2/promise’s pool methods', async () => {
  const { createPool } = await import('spillway/mysql');
  const pool = createPool({ host: '127.0.0.1', user: 'nobody', connectionLimit: 2 });
  for (const method of ['getConnection', 'query', 'execute', 'end', 'releaseConnection', 'on']) {
    assert.equal(typeof (pool as unknown as Record<string, unknown>)[method], 'function', method);
  }
  assert.equal(pool.escape("it's"), "'it\\'s'");
  await pool.end();
});

test('spillway/mysql/callback exports createPool and createPoolCluster with mysql2’s callback API', async () => {
  const callback = await import('spillway/mysql/callback');
  const pool = callback.createPool({ host: '127.0.0.1', user: 'nobody', connectionLimit: 2 });
  for (const method of ['getConnection', 'query', 'execute', 'end', 'releaseConnection', 'promise', 'on']) {
    assert.equal(typeof (pool as unknown as Record<string, unknown>)[method], 'function', method);
  }
  assert.equal(pool.promise().pool, pool, 'promise() wraps this pool');
  const cluster = callback.default.createPoolCluster();
  assert.equal(typeof cluster.of, 'function');
  await new Promise<void>((resolve) => cluster.end(() => resolve()));
  await new Promise<void>((resolve) => pool.end(() => resolve()));
  const { createPoolCluster } = await import('spillway/mysql');
  const promiseCluster = createPoolCluster();
  await promiseCluster.end();
});
