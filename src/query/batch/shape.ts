import { BatchInvalidError } from '../../errors.js';
import { Session } from '../session.js';
import { checkIdentifier, describe } from './identifiers.js';

/** Options every batch call takes. */
export interface BatchCallOptions {
  /** Join this transaction (a Session from `db.transaction`) instead of opening one. */
  tx?: Session;
  /** Most rows (or ids) per statement; the dialect's bind-parameter limit caps it further. */
  chunkSize?: number;
}

/** Refuse anything but a plain object with known keys, so a misspelt option never passes silently. */
export function checkOptions<T extends object>(options: T | undefined, allowed: readonly string[], operation: string): Partial<T> {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new BatchInvalidError(`${operation}: options must be an object`);
  for (const name of Object.keys(options)) {
    if (!allowed.includes(name))
      throw new BatchInvalidError(`${operation}: unknown option ${describe(name)} (accepted: ${allowed.join(', ')})`);
  }
  const { tx, chunkSize } = options as BatchCallOptions;
  if (tx !== undefined && !(tx instanceof Session)) throw new BatchInvalidError(`${operation}: tx must be a Session from db.transaction()`);
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize > 0)) {
    throw new BatchInvalidError(`${operation}: chunkSize must be a positive integer, got ${describe(chunkSize)}`);
  }
  return options;
}

/** Rows checked to share one set of plain column names, with no undefined values. */
export interface CheckedRows {
  columns: string[];
  rows: readonly Record<string, unknown>[];
  /**
   * With `checkRows(..., true)`: every value, row-major in `columns` order (what VALUES lists
   * bind), read in the same pass as the check so large batches walk their rows once.
   */
  values?: unknown[];
}

/**
 * Every row must be a plain object with exactly the columns of the first row (in any order) and no
 * `undefined` value (drivers disagree on it; write null). An empty array is allowed and is a no-op.
 */
export function checkRows(rows: unknown, operation: string, collectValues = false): CheckedRows {
  if (!Array.isArray(rows)) throw new BatchInvalidError(`${operation}: rows must be an array of objects`);
  if (rows.length === 0) return { columns: [], rows: [], values: collectValues ? [] : undefined };
  const first = rows[0];
  if (!isPlainObject(first)) throw new BatchInvalidError(`${operation}: row 0 is not a plain object`);
  const columns = Object.keys(first).map((c) => checkIdentifier(c, `${operation}: column`));
  const width = columns.length;
  if (width === 0) throw new BatchInvalidError(`${operation}: row 0 has no columns`);
  const values = collectValues ? new Array<unknown>(rows.length * width) : undefined;
  let next = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as unknown;
    if (!isPlainObject(row)) throw new BatchInvalidError(`${operation}: row ${i} is not a plain object`);
    const record = row as Record<string, unknown>;
    if (Object.keys(record).length !== width) throw differing(operation, i);
    for (let c = 0; c < width; c++) {
      const column = columns[c]!;
      const value = record[column];
      if (value === undefined) {
        if (!Object.hasOwn(record, column)) throw differing(operation, i);
        throw new BatchInvalidError(`${operation}: row ${i} column ${column} is undefined (use null)`);
      }
      // An inherited property would also read as defined: plain objects only inherit Object.prototype's.
      if (!Object.hasOwn(record, column)) throw differing(operation, i);
      if (values !== undefined) values[next++] = value;
    }
  }
  return { columns, rows: rows as Record<string, unknown>[], values };
}

function differing(operation: string, index: number): BatchInvalidError {
  return new BatchInvalidError(`${operation}: row ${index} has different columns from row 0; every row must have the same columns`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A key as a map key: ids asked for and keys read back must meet even when the driver returns
 * another JS type for the same value (PostgreSQL int8 and numeric come back as strings).
 */
export function keyOf(id: unknown, operation: string): string {
  switch (typeof id) {
    case 'string':
    case 'number':
    case 'bigint':
      return String(id);
    case 'object':
      if (id instanceof Uint8Array) return `x${Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')}`;
      if (id instanceof Date) return `d${id.toISOString()}`;
      break;
  }
  throw new BatchInvalidError(`${operation}: id ${describe(id)} must be a string, number, bigint, Buffer or Date`);
}

/** Split `items` into slices of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** Rows per statement: the caller's chunkSize, capped so no statement exceeds the bind limit (or the dialect's row cap). */
export function rowsPerStatement(
  limits: { maxBindParameters: number; maxRowsPerStatement?: number },
  parametersPerRow: number,
  chunkSize: number | undefined,
): number {
  const byLimit = Math.min(
    Math.max(1, Math.floor(limits.maxBindParameters / Math.max(1, parametersPerRow))),
    limits.maxRowsPerStatement ?? Infinity,
  );
  return Math.min(byLimit, chunkSize ?? byLimit);
}
