import { ConnectionLostError, LockTimeoutError, SpillwayError, StatementTimeoutError, withOutcome } from '../../errors.js';
import type { StatementFailureKind, TransactionConflict } from '../dialect.js';
import { SOCKET_DISCONNECT_CODES } from '../socket-errors.js';

/** mysql2 codes that mean the connection (or the server) is gone, beside the socket codes. */
const DISCONNECT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_SERVER_SHUTDOWN', // 1053
  'ER_CON_COUNT_ERROR', // 1040: the server refuses new connections
  'ER_CLIENT_INTERACTION_TIMEOUT', // 4031: MySQL 8 closed an idle session (wait_timeout)
  'ER_CONNECTION_KILLED', // 1927 (MariaDB)
]);

/** Server error numbers of the same kind: 2006 server gone away, 2013 lost during query, 1927 connection killed, 4031 idle timeout. */
const DISCONNECT_ERRNOS = new Set([1053, 1927, 2006, 2013, 4031]);

/**
 * The server refused a write because it is (now) read-only: 1290 ER_OPTION_PREVENTS_STATEMENT
 * (`--read-only`, what Aurora and RDS answer during a failover), 1792 ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
 * 1836 ER_READ_ONLY_MODE. The list is mysql2's own (after go-sql-driver's).
 */
const READ_ONLY_ERRNOS = new Set([1290, 1792, 1836]);

/**
 * True when a statement failed because the server is read-only: after a failover the connection
 * points at the old writer, so it is not handed out again (as mysql2's pool does).
 */
export function isMysqlReadOnly(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const errno = (error as { errno?: unknown }).errno;
  return typeof errno === 'number' && READ_ONLY_ERRNOS.has(errno);
}

/** MariaDB max_statement_time (1969) and MySQL max_execution_time (3024). */
const STATEMENT_TIMEOUT_ERRNOS = new Set([1969, 3024]);
const LOCK_WAIT_TIMEOUT_ERRNO = 1205;

/** True when the error means the MySQL connection is unusable. */
export function isMysqlDisconnect(error: unknown): boolean {
  if (error instanceof SpillwayError)
    return error.code === 'CONNECTION_LOST' || error.code === 'CONNECT_TIMEOUT' || error.connectionUnusable;
  if (!(error instanceof Error)) return false;
  const { code, errno, fatal } = error as { code?: unknown; errno?: unknown; fatal?: unknown };
  if (typeof code === 'string' && (DISCONNECT_CODES.has(code) || SOCKET_DISCONNECT_CODES.has(code))) return true;
  if (typeof errno === 'number' && DISCONNECT_ERRNOS.has(errno)) return true;
  // mysql2 marks errors after which the connection cannot be used again as fatal.
  return fatal === true;
}

/**
 * mysql2 refused the command without writing it: the connection had already failed or was quitting
 * (`_addCommandClosedState`, and the PROTOCOL_ENQUEUE_* codes of older releases).
 */
function refusedUnsent(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR' ||
    code === 'PROTOCOL_ENQUEUE_AFTER_QUIT' ||
    error.message.includes("Can't add new command when connection is in closed state")
  );
}

/** An error packet from the server: it has the server's SQLSTATE and is not a broken connection. */
function fromServer(error: Error): boolean {
  const { sqlState, fatal } = error as { sqlState?: unknown; fatal?: unknown };
  return typeof sqlState === 'string' && fatal !== true;
}

/**
 * Map a mysql2 error to Spillway's: timeouts and disconnects get their codes (the driver error as
 * `cause`); SQL errors (duplicate key, syntax) pass through with mysql2's fields, `outcome` added.
 * `written`: whether the command may have gone out (false while connecting); see mapPostgresError.
 */
export function mapMysqlError(error: unknown, statementTimeoutMs: number, lockTimeoutMs: number, written = true): unknown {
  if (error instanceof SpillwayError || !(error instanceof Error)) return error;
  const errno = (error as { errno?: unknown }).errno;
  if (typeof errno === 'number' && STATEMENT_TIMEOUT_ERRNOS.has(errno)) {
    return new StatementTimeoutError(statementTimeoutMs, { cause: error, outcome: 'rejected' });
  }
  if (errno === LOCK_WAIT_TIMEOUT_ERRNO) return new LockTimeoutError(lockTimeoutMs, { cause: error });
  const unsent = !written || refusedUnsent(error);
  if (isMysqlDisconnect(error)) {
    return new ConnectionLostError(`MySQL connection lost: ${error.message}`, { cause: error, outcome: unsent ? 'not-sent' : 'unknown' });
  }
  return withOutcome(error, unsent ? 'not-sent' : fromServer(error) ? 'rejected' : 'unknown');
}

/**
 * Errors of the same kinds that MySQL reports with the generic SQLSTATE HY000 (MariaDB gives most
 * of them their class 22/23 state): 1364 no default for a NOT NULL field, 3819 check constraint
 * violated; 1366 incorrect value for a column, 1411 wrong value for a type, 1292 truncated wrong
 * value, 1265 data truncated, 1690 value out of range.
 */
const CONSTRAINT_ERRNOS = new Set([1364, 3819]);
const DATA_ERRNOS = new Set([1265, 1292, 1366, 1411, 1690]);

/**
 * Constraint violations (SQLSTATE class 23: duplicate key, foreign key, NOT NULL, CHECK) and data
 * exceptions (class 22: out of range, too long, malformed values) are the application's errors.
 */
export function classifyMysqlFailure(error: unknown): StatementFailureKind {
  if (error instanceof SpillwayError || error === null || typeof error !== 'object') return 'failure';
  const { sqlState, errno } = error as { sqlState?: unknown; errno?: unknown };
  if (typeof sqlState === 'string' && sqlState.startsWith('23')) return 'constraint_violation';
  if (typeof sqlState === 'string' && sqlState.startsWith('22')) return 'data_exception';
  if (typeof errno === 'number' && CONSTRAINT_ERRNOS.has(errno)) return 'constraint_violation';
  if (typeof errno === 'number' && DATA_ERRNOS.has(errno)) return 'data_exception';
  return 'failure';
}

/**
 * ER_LOCK_DEADLOCK (1213: InnoDB rolled the transaction back) and ER_LOCK_WAIT_TIMEOUT (1205: the
 * statement was rolled back; mapped to LOCK_TIMEOUT with mysql2's error as `cause`).
 */
export function mysqlTransactionConflict(error: unknown): TransactionConflict | undefined {
  if (error instanceof LockTimeoutError)
    return (error.cause as { errno?: unknown } | undefined)?.errno === LOCK_WAIT_TIMEOUT_ERRNO ? 'lock_timeout' : undefined;
  const errno = (error as { errno?: unknown } | null)?.errno;
  if (errno === 1213) return 'deadlock';
  if (errno === LOCK_WAIT_TIMEOUT_ERRNO) return 'lock_timeout';
  return undefined;
}
