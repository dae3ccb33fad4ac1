import { ConnectionLostError, LockTimeoutError, SpillwayError, StatementTimeoutError } from '../../errors.js';
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

/** MariaDB max_statement_time (1969) and MySQL max_execution_time (3024). */
const STATEMENT_TIMEOUT_ERRNOS = new Set([1969, 3024]);
const LOCK_WAIT_TIMEOUT_ERRNO = 1205;

/** True when the error means the MySQL connection is unusable. */
export function isMysqlDisconnect(error: unknown): boolean {
  if (error instanceof SpillwayError) return error.code === 'CONNECTION_LOST' || error.code === 'CONNECT_TIMEOUT';
  if (!(error instanceof Error)) return false;
  const { code, errno, fatal } = error as { code?: unknown; errno?: unknown; fatal?: unknown };
  if (typeof code === 'string' && (DISCONNECT_CODES.has(code) || SOCKET_DISCONNECT_CODES.has(code))) return true;
  if (typeof errno === 'number' && DISCONNECT_ERRNOS.has(errno)) return true;
  // mysql2 marks errors after which the connection cannot be used again as fatal.
  return fatal === true;
}

/**
 * Map a mysql2 error to Spillway's: timeouts and disconnects get their codes (the driver error as
 * `cause`); SQL errors (duplicate key, syntax) pass through untouched with mysql2's fields.
 */
export function mapMysqlError(error: unknown, statementTimeoutMs: number, lockTimeoutMs: number): unknown {
  if (error instanceof SpillwayError || !(error instanceof Error)) return error;
  const errno = (error as { errno?: unknown }).errno;
  if (typeof errno === 'number' && STATEMENT_TIMEOUT_ERRNOS.has(errno)) return new StatementTimeoutError(statementTimeoutMs, error);
  if (errno === LOCK_WAIT_TIMEOUT_ERRNO) return new LockTimeoutError(lockTimeoutMs, error);
  if (isMysqlDisconnect(error)) return new ConnectionLostError(`MySQL connection lost: ${error.message}`, error);
  return error;
}
