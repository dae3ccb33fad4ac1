import { LockTimeoutError, SpillwayError } from '../../errors.js';

/**
 * Map a better-sqlite3 error: a lock held past busy_timeout (SQLITE_BUSY*) is LOCK_TIMEOUT; an I/O
 * or corruption error leaves the connection unusable, so it is discarded. SQL errors (constraints,
 * syntax) pass through untouched with better-sqlite3's `code`.
 */
export function mapSqliteError(error: unknown, lockTimeoutMs: number): unknown {
  if (error instanceof SpillwayError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return new LockTimeoutError(lockTimeoutMs, error);
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_FULL') {
    (error as Error & { connectionUnusable: boolean }).connectionUnusable = true;
  }
  return error;
}

/** SQLite has no network: a connection is only ever "lost" when Spillway itself says so. */
export function isSqliteDisconnect(error: unknown): boolean {
  return error instanceof SpillwayError && (error.code === 'CONNECTION_LOST' || error.code === 'CONNECT_TIMEOUT');
}
