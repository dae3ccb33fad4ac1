import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapMysqlError } from '../../src/dialect/mysql/mysql-errors.js';
import { mapPostgresError } from '../../src/dialect/postgres/postgres-errors.js';
import { isSqliteDisconnect, mapSqliteError } from '../../src/dialect/sqlite/sqlite-errors.js';
import { CircuitOpenError, ConnectionLostError, ERROR_CODES, outcomeOf, SpillwayError, StatementTimeoutError } from '../../src/errors.js';
import { mayWrite, statementFailure } from '../../src/query/outcome.js';

// Driver errors are built here by hand (their shape as pg and mysql2 give them) because the cases
// that matter (a refusal after the socket died, a lost answer) cannot be produced on demand.
test('every code has an outcome, and the typed connectionUnusable flag', () => {
  for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
    const error = new SpillwayError(code, 'x');
    assert.ok(outcomeOf(error) !== undefined, code);
    assert.equal(error.connectionUnusable, false);
  }
  assert.equal(new CircuitOpenError('p', 10).outcome, 'not-sent');
  assert.equal(new ConnectionLostError('x', { connectionUnusable: true }).connectionUnusable, true);
  assert.equal(new StatementTimeoutError(5, { outcome: 'rejected' }).outcome, 'rejected');
});

test('pg: server errors are rejected with their fields intact; a refusal is not-sent; a lost answer unknown', () => {
  const unique = Object.assign(new Error('duplicate key value violates unique constraint "t_pkey"'), {
    severity: 'ERROR',
    code: '23505',
    constraint: 't_pkey',
  });
  const mapped = mapPostgresError(unique, 1000, 1000);
  assert.equal(mapped, unique, 'passed through, the same object');
  assert.equal((mapped as { outcome?: string }).outcome, 'rejected');
  assert.equal((mapped as { constraint?: string }).constraint, 't_pkey');
  const refused = mapPostgresError(new Error('Client has encountered a connection error and is not queryable'), 1000, 1000);
  assert.deepEqual([(refused as SpillwayError).code, outcomeOf(refused)], ['CONNECTION_LOST', 'not-sent']);
  const lost = mapPostgresError(new Error('Connection terminated unexpectedly'), 1000, 1000);
  assert.deepEqual([(lost as SpillwayError).code, outcomeOf(lost)], ['CONNECTION_LOST', 'unknown']);
  const serverTimeout = mapPostgresError(
    Object.assign(new Error('canceling statement due to statement timeout'), { severity: 'ERROR', code: '57014' }),
    1000,
    1000,
  );
  assert.deepEqual([(serverTimeout as SpillwayError).code, outcomeOf(serverTimeout)], ['STATEMENT_TIMEOUT', 'rejected']);
  const refusedConnect = mapPostgresError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 1000, 1000, false);
  assert.equal(outcomeOf(refusedConnect), 'not-sent');
});

test('mysql2: server errors are rejected; a closed-state refusal is not-sent; a lost connection unknown', () => {
  const dup = Object.assign(new Error("Duplicate entry '1' for key 'PRIMARY'"), { code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000' });
  assert.equal(outcomeOf(mapMysqlError(dup, 1000, 1000)), 'rejected');
  const closed = Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true });
  assert.equal(outcomeOf(mapMysqlError(closed, 1000, 1000)), 'not-sent');
  const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {
    code: 'PROTOCOL_CONNECTION_LOST',
    fatal: true,
  });
  assert.equal(outcomeOf(mapMysqlError(lost, 1000, 1000)), 'unknown');
});

test('a lost answer on an autocommit write or a COMMIT is RESULT_UNKNOWN; on a read it keeps its code', () => {
  const lost = new ConnectionLostError('gone');
  const write = statementFailure(lost, 'write') as SpillwayError;
  assert.equal(write.code, 'RESULT_UNKNOWN');
  assert.equal(write.outcome, 'unknown');
  assert.equal(write.cause, lost);
  assert.match(write.message, /may have been applied/);
  assert.match((statementFailure(lost, 'commit') as Error).message, /may have been committed/);
  assert.equal(statementFailure(lost, undefined), lost);
  const rejected = new StatementTimeoutError(5, { outcome: 'rejected' });
  assert.equal(statementFailure(rejected, 'write'), rejected);
});

test('reads and writes are told apart conservatively', () => {
  for (const read of [
    'SELECT 1',
    '  select * from t',
    '/* c */ SELECT 1',
    '(SELECT 1)',
    'SHOW tables',
    'EXPLAIN SELECT 1',
    'WITH a AS (SELECT 1) SELECT * FROM a',
  ])
    assert.equal(mayWrite(read), false, read);
  for (const write of [
    'INSERT INTO t VALUES (1)',
    'update t set a = 1',
    'DELETE FROM t',
    "SELECT nextval('s')",
    'SELECT * INTO t2 FROM t',
    'EXPLAIN ANALYZE DELETE FROM t',
    'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
    'CALL p()',
    'COMMIT',
  ])
    assert.equal(mayWrite(write), true, write);
});

test('SQLite: a constraint error is rejected; an I/O error is unknown and discards the connection, passed through', () => {
  const constraint = Object.assign(new Error('UNIQUE constraint failed: t.id'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  assert.equal(outcomeOf(mapSqliteError(constraint, 1000)), 'rejected');
  assert.equal(isSqliteDisconnect(constraint), false);
  const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
  const mapped = mapSqliteError(io, 1000);
  assert.equal(mapped, io, 'the driver error itself');
  assert.equal(outcomeOf(mapped), 'unknown');
  assert.equal(isSqliteDisconnect(io), true);
  assert.equal(Object.hasOwn(io, 'connectionUnusable'), false, 'no untyped flag added');
});
