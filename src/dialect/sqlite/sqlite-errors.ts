import { LockTimeoutError, SpillwayError, withOutcome } from '../../errors.js';
import type { StatementFailureKind } from '../dialect.js';

/**
 * Map a better-sqlite3 error: a lock held past busy_timeout (SQLITE_BUSY*) is LOCK_TIMEOUT; an I/O
 * or corruption error leaves the connection unusable (isSqliteDisconnect), so it is discarded. SQL
 * errors (constraints, syntax) pass through with better-sqlite3's `code`, `outcome` added.
 */
export function mapSqliteError(error: unknown, lockTimeoutMs: number): unknown {
  if (error instanceof SpillwayError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  // In process, no network: the engine refused the statement, unless its storage failed under it.
  if (typeof code !== 'string') return withOutcome(error, 'rejected');
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return new LockTimeoutError(lockTimeoutMs, { cause: error });
  // Storage that failed under a statement may have left part of it behind: unknown (the connection is discarded, see below).
  if (storageFailed(code)) return withOutcome(error, code === 'SQLITE_FULL' ? 'rejected' : 'unknown');
  return withOutcome(error, 'rejected');
}

/** An I/O or corruption error (or a full disk) leaves the connection unusable: it is discarded. */
function storageFailed(code: string): boolean {
  return code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_FULL';
}

/**
 * SQLite has no network: a connection is "lost" when Spillway itself says so, or when its storage
 * failed under it (better-sqlite3's error passes through; this judgement discards the connection).
 */
export function isSqliteDisconnect(error: unknown): boolean {
  if (error instanceof SpillwayError) {
    return error.code === 'CONNECTION_LOST' || error.code === 'CONNECT_TIMEOUT' || error.connectionUnusable;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && storageFailed(code);
}

/**
 * SQLite's counterparts of SQLSTATE classes 23 and 22: SQLITE_CONSTRAINT_* (unique, primary key,
 * foreign key, not null, check) is a constraint violation; a value of the wrong type for a STRICT
 * column (SQLITE_CONSTRAINT_DATATYPE), a datatype mismatch or a value too big is a data exception.
 */
export function classifySqliteFailure(error: unknown): StatementFailureKind {
  if (error instanceof SpillwayError) return 'failure';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'failure';
  if (code === 'SQLITE_CONSTRAINT_DATATYPE' || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG') return 'data_exception';
  if (code === 'SQLITE_CONSTRAINT' || code.startsWith('SQLITE_CONSTRAINT_')) return 'constraint_violation';
  return 'failure';
}
