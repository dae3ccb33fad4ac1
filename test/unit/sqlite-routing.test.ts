import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePragmas } from '../../src/dialect/sqlite/sqlite-pragmas.js';
import { isSqliteWrite } from '../../src/dialect/sqlite/sqlite-routing.js';

describe('sqlite routing', () => {
  it('sends plain reads to readers and everything else to the writer', () => {
    for (const read of [
      'SELECT 1',
      '  select * from t',
      'WITH x AS (SELECT 1) SELECT * FROM x',
      'EXPLAIN QUERY PLAN SELECT 1',
      'VALUES (1)',
    ]) {
      assert.equal(isSqliteWrite(read), false, read);
    }
    for (const write of [
      'INSERT INTO t VALUES (1)',
      'UPDATE t SET v = 1',
      'DELETE FROM t',
      'CREATE TABLE t (v)',
      'WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x',
      'PRAGMA user_version = 3',
      'BEGIN',
    ]) {
      assert.equal(isSqliteWrite(write), true, write);
    }
  });

  it('puts busy_timeout first so that switching to WAL waits politely', () => {
    const pragmas = resolvePragmas(5000, { cache_size: -1 });
    assert.deepEqual(pragmas[0], ['busy_timeout', 5000]);
    assert.ok(pragmas.some(([name, value]) => name === 'cache_size' && value === -1));
  });
});
