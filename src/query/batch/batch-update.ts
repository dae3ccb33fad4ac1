import { BatchInvalidError } from '../../errors.js';
import { checkIdentifier, checkTable } from './identifiers.js';
import { type BatchHost, flatten, runBatch } from './run.js';
import { type BatchCallOptions, checkOptions, checkRows, chunk, keyOf, rowsPerStatement } from './shape.js';

export interface BatchUpdateOptions extends BatchCallOptions {
  /** The key column(s) rows are matched on; every other column of the rows is set. */
  key: string | readonly string[];
}

export interface BatchUpdateResult {
  /** Rows updated as the driver counts them (MySQL counts only rows whose values changed). */
  rowCount: number;
  /** Statements sent (one per chunk). */
  statements: number;
}

const OPTIONS = ['tx', 'chunkSize', 'key'];
const OP = 'batchUpdate';

/**
 * Update many rows by key with one statement per chunk: UPDATE ... FROM (VALUES ...) on PostgreSQL
 * and SQLite, a JOIN against a derived table on MySQL. Rows whose key matches nothing are ignored.
 */
export async function batchUpdate(
  host: BatchHost,
  table: string,
  rows: readonly Record<string, unknown>[],
  options: BatchUpdateOptions,
): Promise<BatchUpdateResult> {
  const dialect = host.dialect;
  const batch = dialect.batch;
  const opts = checkOptions(options, OPTIONS, OP);
  const target = checkTable(dialect, table);
  if (opts.key === undefined) throw new BatchInvalidError(`${OP}: options.key is required`);
  const keys = [opts.key].flat().map((k) => checkIdentifier(k, `${OP}: key`));
  if (keys.length === 0) throw new BatchInvalidError(`${OP}: options.key must name at least one column`);
  const checked = checkRows(rows, OP);
  if (checked.rows.length === 0) return { rowCount: 0, statements: 0 };
  const missingKey = keys.find((k) => !checked.columns.includes(k));
  if (missingKey !== undefined) throw new BatchInvalidError(`${OP}: rows have no key column ${missingKey}`);
  const sets = checked.columns.filter((c) => !keys.includes(c));
  if (sets.length === 0) throw new BatchInvalidError(`${OP}: rows have no column to set besides the key`);
  // Two rows for one key would leave the outcome to the server's join order: refuse it.
  const seen = new Set<string>();
  checked.rows.forEach((row, i) => {
    if (keys.some((k) => row[k] === null)) throw new BatchInvalidError(`${OP}: row ${i} has a null key`);
    const id = keys.map((k) => keyOf(row[k], OP)).join('\u0000');
    if (seen.has(id)) throw new BatchInvalidError(`${OP}: row ${i} repeats the key of an earlier row`);
    seen.add(id);
  });

  const quote = (c: string): string => dialect.quoteIdentifier(c);
  const ordered = [...keys, ...sets];
  const chunks = chunk(checked.rows, rowsPerStatement(batch, ordered.length, opts.chunkSize));
  return runBatch(host, opts.tx, chunks.length, async (run) => {
    const types = await batch.columnTypes?.(run, target, ordered);
    const result: BatchUpdateResult = { rowCount: 0, statements: 0 };
    for (const slice of chunks) {
      const text = batch.updateSql({ table: target.quoted, keys: keys.map(quote), sets: sets.map(quote), rowCount: slice.length, types });
      result.rowCount += (await run(text, flatten(slice, ordered))).rowCount;
      result.statements++;
    }
    return result;
  });
}
