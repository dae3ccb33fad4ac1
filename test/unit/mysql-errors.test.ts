import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mysqlSessionSettings } from '../../src/dialect/mysql/mysql-dialect.js';
import { isMysqlDisconnect, mapMysqlError } from '../../src/dialect/mysql/mysql-errors.js';

// Error objects shaped like mysql2's (code, errno, fatal): classification is pure, no server needed.
function driverError(fields: { code?: string; errno?: number; fatal?: boolean }): Error {
  return Object.assign(new Error('driver error'), fields);
}

describe('mysql error classification', () => {
  it('treats lost, reset, refused, gone-away and idle-timeout errors as disconnects', () => {
    for (const code of ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'ER_CLIENT_INTERACTION_TIMEOUT']) {
      assert.equal(isMysqlDisconnect(driverError({ code })), true, code);
      assert.equal((mapMysqlError(driverError({ code }), 1, 1) as { code: string }).code, 'CONNECTION_LOST', code);
    }
    for (const errno of [2006, 2013, 4031]) assert.equal(isMysqlDisconnect(driverError({ errno })), true, String(errno));
    assert.equal(isMysqlDisconnect(driverError({ code: 'SOMETHING', fatal: true })), true);
  });

  it('maps server timeouts and passes SQL errors through untouched', () => {
    assert.equal((mapMysqlError(driverError({ errno: 1969 }), 100, 1) as { code: string }).code, 'STATEMENT_TIMEOUT');
    assert.equal((mapMysqlError(driverError({ errno: 3024 }), 100, 1) as { code: string }).code, 'STATEMENT_TIMEOUT');
    assert.equal((mapMysqlError(driverError({ errno: 1205 }), 100, 1) as { code: string }).code, 'LOCK_TIMEOUT');
    const duplicate = driverError({ code: 'ER_DUP_ENTRY', errno: 1062 });
    assert.equal(mapMysqlError(duplicate, 1, 1), duplicate);
    assert.equal(isMysqlDisconnect(duplicate), false);
  });

  it('sets the statement timeout the way each server spells it, and rounds lock waits up to whole seconds', () => {
    assert.match(mysqlSessionSettings(true, 1500, 200), /max_statement_time = 1\.5\b.*innodb_lock_wait_timeout = 1\b/);
    assert.match(mysqlSessionSettings(false, 1500, 2500), /max_execution_time = 1500\b.*innodb_lock_wait_timeout = 3\b/);
    assert.match(mysqlSessionSettings(true, 0, 0), /max_statement_time = 0\b.*innodb_lock_wait_timeout = 1073741824\b/);
  });
});
