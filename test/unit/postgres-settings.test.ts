import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPostgresDisconnect, mapPostgresError } from '../../src/dialect/postgres/postgres-errors.js';

test('PostgreSQL errors: disconnects and timeouts get codes, SQL errors pass through untouched', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  assert.ok(isPostgresDisconnect(reset));
  assert.ok(isPostgresDisconnect(new Error('Connection terminated unexpectedly')));
  assert.ok(isPostgresDisconnect(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })));
  const unique = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505', constraint: 'users_pkey' });
  assert.ok(!isPostgresDisconnect(unique));
  assert.equal(mapPostgresError(unique, 1000, 1000), unique);
  const timeout = mapPostgresError(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 1000, 500);
  assert.equal((timeout as { code: string }).code, 'STATEMENT_TIMEOUT');
  const lock = mapPostgresError(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }), 1000, 500);
  assert.equal((lock as { code: string }).code, 'LOCK_TIMEOUT');
  assert.equal((mapPostgresError(reset, 1, 1) as { code: string }).code, 'CONNECTION_LOST');
  assert.equal((mapPostgresError(reset, 1, 1) as { cause: unknown }).cause, reset);
});
