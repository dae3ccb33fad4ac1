import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyMysqlFailure } from '../../src/dialect/mysql/mysql-errors.js';
import { classifyPostgresFailure } from '../../src/dialect/postgres/postgres-errors.js';
import { classifySqliteFailure } from '../../src/dialect/sqlite/sqlite-errors.js';
import { ConnectionLostError, StatementTimeoutError } from '../../src/errors.js';

/** A driver error as the driver shapes it (the integration suite checks real ones on every dialect). */
const driverError = (fields: Record<string, unknown>): Error => Object.assign(new Error('driver error'), fields);

describe("each dialect's judgement of a failed statement", () => {
  it('PostgreSQL: SQLSTATE class 23 is a constraint violation, class 22 a data exception', () => {
    assert.equal(classifyPostgresFailure(driverError({ code: '23505' })), 'constraint_violation'); // unique
    assert.equal(classifyPostgresFailure(driverError({ code: '23503' })), 'constraint_violation'); // foreign key
    assert.equal(classifyPostgresFailure(driverError({ code: '22021' })), 'data_exception'); // NUL byte in text
    assert.equal(classifyPostgresFailure(driverError({ code: '22003' })), 'data_exception'); // out of range
    for (const code of ['42601', '40001', '57014', '08006', 'ECONNRESET']) {
      assert.equal(classifyPostgresFailure(driverError({ code })), 'failure', code);
    }
  });

  it('MySQL/MariaDB: SQLSTATE 23/22, and the same errors MySQL reports as HY000', () => {
    assert.equal(classifyMysqlFailure(driverError({ errno: 1062, sqlState: '23000' })), 'constraint_violation');
    assert.equal(classifyMysqlFailure(driverError({ errno: 1406, sqlState: '22001' })), 'data_exception');
    assert.equal(classifyMysqlFailure(driverError({ errno: 3819, sqlState: 'HY000' })), 'constraint_violation'); // CHECK, MySQL 8
    assert.equal(classifyMysqlFailure(driverError({ errno: 1364, sqlState: 'HY000' })), 'constraint_violation'); // NOT NULL, no default
    assert.equal(classifyMysqlFailure(driverError({ errno: 1366, sqlState: 'HY000' })), 'data_exception'); // incorrect integer value
    assert.equal(classifyMysqlFailure(driverError({ errno: 1064, sqlState: '42000' })), 'failure');
    assert.equal(classifyMysqlFailure(driverError({ errno: 1205, sqlState: 'HY000' })), 'failure');
  });

  it('SQLite: SQLITE_CONSTRAINT_* and the type and size errors', () => {
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_CONSTRAINT_UNIQUE' })), 'constraint_violation');
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' })), 'constraint_violation');
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_CONSTRAINT_DATATYPE' })), 'data_exception'); // STRICT table
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_TOOBIG' })), 'data_exception');
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_ERROR' })), 'failure');
    assert.equal(classifySqliteFailure(driverError({ code: 'SQLITE_IOERR_READ' })), 'failure');
  });

  it("Spillway's own errors and non-errors are failures on every dialect", () => {
    for (const classify of [classifyPostgresFailure, classifyMysqlFailure, classifySqliteFailure]) {
      assert.equal(classify(new StatementTimeoutError(100)), 'failure');
      assert.equal(classify(new ConnectionLostError('gone')), 'failure');
      assert.equal(classify(undefined), 'failure');
      assert.equal(classify('23505'), 'failure');
    }
  });
});
