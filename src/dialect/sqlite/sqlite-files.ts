import { closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, ConnectionLostError } from '../../errors.js';

/**
 * File-system errors another attempt cannot cure: the path cannot hold a database (a file where a
 * folder should be, a read-only or virtual file system such as /proc, no permission, a bad name).
 * Anything else (EMFILE, EIO, ENOSPC, a lock) may pass and is retried.
 */
const PERMANENT_FS_CODES = new Set([
  'ENOTDIR',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOENT',
  'EISDIR',
  'ENAMETOOLONG',
  'ELOOP',
  'EEXIST',
  'EINVAL',
]);

/**
 * Create `dir` and its missing parents. Not `mkdirSync(dir, { recursive: true })`: Node's recursive
 * mkdir steps back to the parent on ENOENT and forward again on EEXIST, so under /proc (whose mkdir
 * answers ENOENT for a child of an existing folder) or a dangling symlink it loops forever on the
 * event loop. Here a parent that exists and a child that still cannot be made ends the walk.
 */
export function ensureFolder(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    try {
      if (statSync(current).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, ${current}`), { code: 'ENOTDIR', path: current });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const parent = dirname(current);
      if (parent === current) throw error;
      missing.push(current);
      current = parent;
    }
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // Made meanwhile by another connection or process: fine. Anything else is final.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(folder).isDirectory()) throw error;
    }
  }
}

/**
 * The error a failed open becomes. A path that cannot hold a database is CONFIG_INVALID, which
 * start-up does not retry (retrying would only wait out initializationTimeoutMs): an fs error with a
 * permanent code, SQLITE_CANTOPEN whose cause the file system confirms, a file that is not a
 * database. Anything else is CONNECTION_LOST, retried like a server that is not up yet.
 */
export function openFailure(label: string, path: string, error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_NOTADB') {
    return new ConfigError(
      'url',
      `${label}: ${path} is not a SQLite database; point DATABASE_URL (or option url) at a database file or a new path`,
    );
  }
  let permanent: string | undefined;
  if (typeof code === 'string' && PERMANENT_FS_CODES.has(code)) permanent = (error as Error).message;
  else if (code === 'SQLITE_CANTOPEN') permanent = whyCannotOpen(path);
  if (permanent !== undefined) {
    return new ConfigError(
      'url',
      `${label} cannot be created or opened (${permanent}); point DATABASE_URL (or option url) at a writable folder`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ConnectionLostError(`Cannot open SQLite database ${label}: ${reason}`, { cause: error, outcome: 'not-sent' });
}

/**
 * SQLite says only "unable to open database file": ask the file system why, by opening the file as
 * SQLite would (read-write, created when missing). Undefined when that works: the cause was passing.
 */
function whyCannotOpen(path: string): string | undefined {
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return `${path} is a directory`;
    closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && PERMANENT_FS_CODES.has(code) ? (error as Error).message : undefined;
  }
}
