import type { BatchDialect, BatchInsertSpec, BatchRun, BatchTableName } from '../../dialect/batch-dialect.js';
import { BatchInvalidError } from '../../errors.js';
import { checkIdentifierList, checkTable } from './identifiers.js';
import { type BatchHost, runBatch } from './run.js';
import { type BatchCallOptions, type CheckedRows, checkOptions, checkRows, chunk, rowsPerStatement } from './shape.js';

/** What to do when a row collides with a unique key. */
export type OnConflict =
  /** Skip the colliding row. `target` (the unique columns) is optional on PostgreSQL and SQLite, ignored on MySQL. */
  | { do: 'nothing'; target?: readonly string[] }
  /** Update the existing row: `update` columns (default: every inserted column not in `target`) from the proposed row. */
  | { do: 'update'; target: readonly string[]; update?: readonly string[] };

export interface BatchInsertOptions extends BatchCallOptions {
  /**
   * Columns to return for each inserted row, in input order (RETURNING on PostgreSQL and SQLite).
   * MySQL can return only the AUTO_INCREMENT column, computed from the insert id range.
   */
  returning?: string | readonly string[];
  onConflict?: OnConflict;
}

export interface BatchInsertResult<R = Record<string, unknown>> {
  /** Rows affected as the driver counts them (MySQL counts an upsert's update as 2). */
  rowCount: number;
  /** The `returning` columns of each inserted row; empty without `returning`. With `do: 'nothing'`, skipped rows are absent. */
  rows: R[];
  /** Statements sent (one per chunk). */
  statements: number;
}

const OPTIONS = ['tx', 'chunkSize', 'returning', 'onConflict'];
const PREPARED = Object.freeze({ prepared: true });
const OP = 'batchInsert';

/** Multi-row INSERTs, split so no statement exceeds the dialect's bind-parameter limit. */
export async function batchInsert<R = Record<string, unknown>>(
  host: BatchHost,
  table: string,
  rows: readonly Record<string, unknown>[],
  options?: BatchInsertOptions,
): Promise<BatchInsertResult<R>> {
  const dialect = host.dialect;
  const batch = dialect.batch;
  const opts = checkOptions(options, OPTIONS, OP);
  const target = checkTable(dialect, table);
  const checked = checkRows(rows, OP, true);
  const returning = opts.returning === undefined ? undefined : checkIdentifierList([opts.returning].flat(), `${OP}: returning`);
  const conflict = checkConflict(opts.onConflict, checked.columns);
  if (checked.rows.length === 0) return { rowCount: 0, rows: [], statements: 0 };

  const quote = (c: string): string => dialect.quoteIdentifier(c);
  const insertIds = returning !== undefined && batch.generatedKeys === 'insert-id';
  if (insertIds) checkInsertIdReturning(returning, conflict, checked);
  const spec: Omit<BatchInsertSpec, 'rowCount'> = {
    table: target.quoted,
    columns: checked.columns.map(quote),
    conflict: conflict && { target: conflict.target.map(quote), update: conflict.update?.map(quote) },
    returning: insertIds ? undefined : returning?.map(quote),
  };
  const width = checked.columns.length;
  if (byCopy(batch, spec, checked)) {
    const copyChunks = chunk(checked.rows, opts.chunkSize ?? checked.rows.length);
    const text = batch.copyInsert!.sql(spec);
    return runBatch(host, opts.tx, copyChunks.length, async (run) => {
      const result: BatchInsertResult<R> = { rowCount: 0, rows: [], statements: 0 };
      let offset = 0;
      for (const slice of copyChunks) {
        const values = checked.values!.slice(offset * width, (offset + slice.length) * width);
        offset += slice.length;
        result.rowCount += (await run(text, [], { copyRows: { values, width } })).rowCount;
        result.statements++;
      }
      return result;
    });
  }
  const valueChunks = chunk(checked.rows, rowsPerStatement(batch, checked.columns.length, opts.chunkSize));
  const columnChunks = byColumns(batch, checked)
    ? chunk(checked.rows, Math.min(opts.chunkSize ?? COLUMNS_MAX_ROWS, COLUMNS_MAX_ROWS))
    : undefined;

  return runBatch(host, opts.tx, Math.max(valueChunks.length, columnChunks?.length ?? 0), async (run) => {
    const keys = insertIds ? await insertIdSource(run, batch, target, returning![0]!, checked) : undefined;
    const types = columnChunks === undefined ? undefined : await batch.columnTypes!(run, target, checked.columns);
    const byColumnText =
      types?.every((t) => t !== undefined && !t.endsWith('[]')) === true
        ? batch.insertFromColumnsSql!({ ...spec, types: types as string[] })
        : undefined;
    const result: BatchInsertResult<R> = { rowCount: 0, rows: [], statements: 0 };
    // Every chunk but the last has the same length: build each text once, not once per chunk.
    const texts = new Map<number, string>();
    const textFor = (rowCount: number): string => {
      let text = texts.get(rowCount);
      if (text === undefined) {
        text = batch.insertSql({ ...spec, rowCount });
        texts.set(rowCount, text);
      }
      return text;
    };
    const statementOptions = batch.preparedInserts === true ? PREPARED : undefined;
    let offset = 0;
    for (const slice of byColumnText === undefined ? valueChunks : columnChunks!) {
      const start = offset;
      offset += slice.length;
      const {
        rows: returned,
        rowCount,
        insertId,
      } = byColumnText === undefined
        ? await run(textFor(slice.length), checked.values!.slice(start * width, offset * width), statementOptions)
        : await run(
            byColumnText,
            checked.columns.map((c) => slice.map((row) => row[c])),
          );
      result.rowCount += rowCount;
      result.statements++;
      if (keys !== undefined) result.rows.push(...(keys(slice, insertId) as R[]));
      else if (returning !== undefined) result.rows.push(...(returned as R[]));
    }
    return result;
  });
}

/** From this many rows the per-column array form pays for its column-type lookup. */
const COLUMNS_MIN_ROWS = 1000;
/** Rows per statement in the per-column array form, which has no bind limit: bounds one statement's size. */
const COLUMNS_MAX_ROWS = 50_000;

/**
 * COPY for large plain inserts where the dialect has it: nothing to return and no conflict to
 * handle (COPY has neither), and every value one the copy data carries as a parameter would.
 */
function byCopy(batch: BatchDialect, spec: Omit<BatchInsertSpec, 'rowCount'>, checked: CheckedRows): boolean {
  const copy = batch.copyInsert;
  if (copy === undefined || spec.conflict !== undefined || spec.returning !== undefined) return false;
  return checked.rows.length >= COLUMNS_MIN_ROWS && checked.values!.every((value) => copy.accepts(value));
}

function byColumns(batch: BatchDialect, checked: CheckedRows): boolean {
  if (batch.insertFromColumnsSql === undefined || batch.columnTypes === undefined || checked.rows.length < COLUMNS_MIN_ROWS) return false;
  // An array value would become a dimension of the column's array parameter.
  return !checked.rows.some((row) => checked.columns.some((c) => Array.isArray(row[c])));
}

function checkConflict(
  onConflict: OnConflict | undefined,
  columns: readonly string[],
): { target: string[]; update: string[] | undefined } | undefined {
  if (onConflict === undefined) return undefined;
  if (typeof onConflict !== 'object' || onConflict === null) throw new BatchInvalidError(`${OP}: onConflict must be an object`);
  const allowed = onConflict.do === 'nothing' ? ['do', 'target'] : onConflict.do === 'update' ? ['do', 'target', 'update'] : undefined;
  if (allowed === undefined) throw new BatchInvalidError(`${OP}: onConflict.do must be 'nothing' or 'update'`);
  const unknown = Object.keys(onConflict).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new BatchInvalidError(`${OP}: unknown onConflict option "${unknown}"`);
  if (onConflict.do === 'nothing') {
    return {
      target: onConflict.target === undefined ? [] : checkIdentifierList(onConflict.target, `${OP}: onConflict.target`),
      update: undefined,
    };
  }
  const target = checkIdentifierList(onConflict.target, `${OP}: onConflict.target`);
  const update =
    onConflict.update === undefined
      ? columns.filter((c) => !target.includes(c))
      : checkIdentifierList(onConflict.update, `${OP}: onConflict.update`);
  // Columns to update come from the proposed row, so they must be among the inserted columns.
  const missing = update.find((c) => !columns.includes(c));
  if (missing !== undefined) throw new BatchInvalidError(`${OP}: onConflict.update column ${missing} is not among the inserted columns`);
  if (update.length === 0 && columns.length > 0) throw new BatchInvalidError(`${OP}: onConflict.update has no column to update`);
  return { target, update };
}

function checkInsertIdReturning(
  returning: readonly string[],
  conflict: unknown,
  checked: { columns: string[]; rows: readonly Record<string, unknown>[] },
): void {
  if (returning.length !== 1) throw new BatchInvalidError(`${OP}: on MySQL, returning may name only the AUTO_INCREMENT column`);
  if (conflict !== undefined)
    throw new BatchInvalidError(`${OP}: on MySQL, returning cannot be combined with onConflict (ids of updated rows are unknown)`);
  const column = returning[0]!;
  if (checked.columns.includes(column) && checked.rows.some((r) => r[column] === null)) {
    throw new BatchInvalidError(`${OP}: on MySQL, returning ${column} needs it given in every row or in none`);
  }
}

/**
 * MySQL reports only the first id of a multi-row INSERT; a "simple insert" gets consecutive ids
 * (every innodb_autoinc_lock_mode), spaced by auto_increment_increment. When the rows give the
 * column themselves, those values are the keys.
 */
async function insertIdSource(
  run: BatchRun,
  batch: BatchDialect,
  table: BatchTableName,
  column: string,
  checked: { columns: string[] },
): Promise<(slice: readonly Record<string, unknown>[], insertId: number | bigint | undefined) => Record<string, unknown>[]> {
  const info = await batch.autoIncrement?.(run, table);
  if (info === undefined) throw new BatchInvalidError(`${OP}: this dialect cannot report generated keys`);
  if (info.column !== column)
    throw new BatchInvalidError(`${OP}: on MySQL, returning may name only the AUTO_INCREMENT column (${info.column ?? 'none'})`);
  if (checked.columns.includes(column)) return (slice) => slice.map((row) => ({ [column]: row[column] }));
  return (slice, insertId) => {
    if (insertId === undefined) throw new BatchInvalidError(`${OP}: the driver reported no insert id`);
    return slice.map((_, i) => ({ [column]: typeof insertId === 'bigint' ? insertId + BigInt(i * info.step) : insertId + i * info.step }));
  };
}
