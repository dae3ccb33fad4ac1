import type { BatchRun } from '../../dialect/batch-dialect.js';
import type { Dialect } from '../../dialect/dialect.js';
import type { Session } from '../session.js';

/** Where a batch runs: a Database (borrows a connection) or a Session (uses its own). */
export interface BatchHost {
  readonly dialect: Dialect;
  /** Borrow a connection; `readOnly` lets SQLite lend a reader instead of its one writer. */
  withSession<T>(fn: (session: Session) => Promise<T>, readOnly: boolean): Promise<T>;
}

/**
 * Run a batch on one connection. With more than one write statement it is one transaction, or a
 * savepoint inside the caller's transaction, so the call is all or nothing; a single statement is
 * atomic by itself and skips BEGIN/COMMIT.
 */
export function runBatch<T>(
  host: BatchHost,
  tx: Session | undefined,
  writes: number,
  fn: (run: BatchRun) => Promise<T>,
  readOnly = false,
): Promise<T> {
  const body = (session: Session): Promise<T> => {
    const run: BatchRun = (text, params) => session.query(text, params);
    return writes > 1 ? session.transaction(() => fn(run)) : fn(run);
  };
  return tx === undefined ? host.withSession(body, readOnly) : body(tx);
}

/** Parameters of rows `rows` for `columns`, row-major, as the dialects' VALUES lists expect. */
export function flatten(rows: readonly Record<string, unknown>[], columns: readonly string[]): unknown[] {
  const params: unknown[] = new Array(rows.length * columns.length);
  let i = 0;
  for (const row of rows) for (const column of columns) params[i++] = row[column];
  return params;
}
