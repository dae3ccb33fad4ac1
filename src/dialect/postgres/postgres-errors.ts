import { ConnectionLostError, LockTimeoutError, SpillwayError, StatementTimeoutError, withOutcome } from '../../errors.js';
import type { StatementFailureKind, TransactionConflict } from '../dialect.js';
import { SOCKET_DISCONNECT_CODES } from '../socket-errors.js';

/**
 * SQLSTATEs that end the session: admin_shutdown, crash_shutdown, cannot_connect_now (57P01-03),
 * and class 08 (connection exception).
 */
function isDisconnectSqlState(code: string): boolean {
  return code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08');
}

/**
 * An ErrorResponse of severity ERROR ends the statement, not the session: a Bind with the wrong number
 * of parameters is 08P01 at that severity, and the connection goes on. The severity is localized
 * (lc_messages); in another language the error counts as the end of the session, the safe side.
 */
function sessionGoesOn(error: Error): boolean {
  return (error as { severity?: unknown }).severity === 'ERROR';
}

/** True when the error means the PostgreSQL connection is unusable. */
export function isPostgresDisconnect(error: unknown): boolean {
  if (error instanceof SpillwayError) {
    // connectionUnusable: the client-side statement backstop fired, the server did not answer.
    return error.code === 'CONNECTION_LOST' || error.code === 'CONNECT_TIMEOUT' || error.connectionUnusable;
  }
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_DISCONNECT_CODES.has(code)) return true;
  if (typeof code === 'string' && isDisconnectSqlState(code) && !sessionGoesOn(error)) return true;
  const message = error.message;
  return (
    message.includes('Connection terminated') ||
    message.includes('connection is closed') ||
    message.includes('Client has encountered a connection error') ||
    message.includes('Client was closed') ||
    message.includes('Query read timeout')
  );
}

/**
 * pg refused the statement without writing a byte: the client had already failed or was closing
 * (client.js checks `_queryable` and `_ending` before queueing).
 */
function refusedUnsent(message: string): boolean {
  return message.includes('is not queryable');
}

/** An error the server sent (an ErrorResponse: pg-protocol's DatabaseError carries its severity). */
function fromServer(error: Error): boolean {
  return typeof (error as { severity?: unknown }).severity === 'string';
}

/**
 * Map a driver error to Spillway's: timeouts and disconnects get their codes (the driver error as
 * `cause`); SQL errors (constraint violations, syntax) pass through with pg's fields, `outcome` added.
 * `written`: whether the statement may have gone out (false while connecting); a failure that is not
 * the server's answer is then `unknown`, since only the server's answer proves nothing was applied.
 */
export function mapPostgresError(error: unknown, statementTimeoutMs: number, lockTimeoutMs: number, written = true): unknown {
  if (error instanceof SpillwayError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (code === '57014' && /statement timeout/i.test(error.message)) {
    return new StatementTimeoutError(statementTimeoutMs, { cause: error, outcome: 'rejected' });
  }
  if (code === '55P03' && /lock timeout/i.test(error.message)) return new LockTimeoutError(lockTimeoutMs, { cause: error });
  const unsent = !written || refusedUnsent(error.message);
  if (isPostgresDisconnect(error)) {
    return new ConnectionLostError(`PostgreSQL connection lost: ${error.message}`, {
      cause: error,
      outcome: unsent ? 'not-sent' : 'unknown',
    });
  }
  return withOutcome(error, unsent ? 'not-sent' : fromServer(error) ? 'rejected' : 'unknown');
}

/** SQLSTATE class 23 (integrity constraint violation) and 22 (data exception) are the application's errors. */
export function classifyPostgresFailure(error: unknown): StatementFailureKind {
  if (error instanceof SpillwayError) return 'failure';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return 'failure';
  if (code.startsWith('23')) return 'constraint_violation';
  if (code.startsWith('22')) return 'data_exception';
  return 'failure';
}

/** serialization_failure (40001) and deadlock_detected (40P01): the transaction was rolled back and may run again. */
export function postgresTransactionConflict(error: unknown): TransactionConflict | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '40001') return 'serialization';
  if (code === '40P01') return 'deadlock';
  return undefined;
}
