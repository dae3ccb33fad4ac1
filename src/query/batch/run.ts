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
 * Run a batch on one connection, all or nothing. Several write statements run in a transaction; a
 * single one is atomic by itself and skips BEGIN/COMMIT. Inside the caller's transaction any write
 * takes a savepoint, so a failing batch undoes only itself and leaves the transaction usable
 * (PostgreSQL would otherwise abort it). Reads (`writes` 0) run as they are.
 */
export function runBatch<T>(
  host: BatchHost,
  tx: Session | undefined,
  writes: number,
  fn: (run: BatchRun) => Promise<T>,
  readOnly = false,
): Promise<T> {
  const body = (session: Session): Promise<T> => {
    const run: BatchRun = (text, params, options) => session.query(text, params, options);
    const atomic = writes > 1 || (writes > 0 && session.inTransaction);
    return atomic ? session.transaction(() => fn(run)) : fn(run);
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
