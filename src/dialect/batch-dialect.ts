import type { DialectStatementOptions, QueryResult } from './statement.js';

/**
 * What the batch layer (src/query/batch) needs from a dialect: its limits and the SQL shapes of
 * set-at-a-time statements. Identifiers arrive already checked and quoted; every value is a bind
 * parameter, numbered row-major from 1 in the order the spec lists the columns.
 */
export interface BatchDialect {
  /** Most bind parameters one statement may carry (PostgreSQL 65535, MySQL 65535, SQLite 32766). */
  readonly maxBindParameters: number;
  /**
   * Optional cap on rows per statement below the bind limit, where measured faster: very long
   * statements cost more to format and parse than they save in round trips.
   */
  readonly maxRowsPerStatement?: number;
  /**
   * Run each insert chunk as a server-side prepared statement (`DialectStatementOptions.prepared`):
   * MySQL, whose driver otherwise escapes values into the text. A batch reuses one or two shapes,
   * so it prepares once and then sends only binary values (measured in bench/RESULTS.md).
   */
  readonly preparedInserts?: boolean;
  /** How an insert reports generated keys: a RETURNING clause, or the driver's insert id range (MySQL). */
  readonly generatedKeys: 'returning' | 'insert-id';
  /** 'array': all ids in one array parameter (`= ANY($1)`); 'in-list': one parameter per id in chunked IN lists. */
  readonly selectByIds: 'array' | 'in-list';
  /** `INSERT INTO table (columns) VALUES (...), ...` for `rowCount` rows, with the conflict and returning clauses. */
  insertSql(spec: BatchInsertSpec): string;
  /**
   * Optional faster form for large inserts: one array parameter per column (PostgreSQL's
   * `SELECT * FROM unnest($1::text[], ...)`), so parsing and binding no longer grow with the rows.
   * The batch layer uses it for large batches when `columnTypes` knows every column and no value
   * is itself an array; otherwise `insertSql`.
   */
  insertFromColumnsSql?(spec: Omit<BatchInsertSpec, 'rowCount'> & { types: readonly string[] }): string;
  /**
   * Optional fastest form for large plain inserts (no onConflict, no returning): a `COPY ... FROM
   * STDIN` whose rows stream as data (`DialectStatementOptions.copyRows`), no statement size limit.
   * `accepts` says whether a value travels in the copy data exactly as it would as a parameter.
   */
  readonly copyInsert?: {
    sql(spec: { table: string; columns: readonly string[] }): string;
    accepts(value: unknown): boolean;
  };
  /** One statement updating `rowCount` rows from a derived table of values, matched on the key columns. */
  updateSql(spec: BatchUpdateSpec): string;
  /** Rows whose key is one of `idCount` ids (one array parameter when `selectByIds` is 'array'). */
  selectByIdsSql(spec: BatchSelectSpec): string;
  /**
   * Column types to cast the update's values to, in the order asked, when the dialect cannot infer
   * them from a derived table (PostgreSQL types untyped VALUES as text). Omitted where not needed.
   */
  columnTypes?(run: BatchRun, table: BatchTableName, columns: readonly string[]): Promise<(string | undefined)[]>;
  /** MySQL: the table's AUTO_INCREMENT column and the server's increment, to compute an insert id range. */
  autoIncrement?(run: BatchRun, table: BatchTableName): Promise<{ column: string | undefined; step: number }>;
}

/** Runs one statement with the dialect's own placeholders on the batch's connection. */
export type BatchRun = (text: string, params: readonly unknown[], options?: DialectStatementOptions) => Promise<QueryResult>;

/** A checked table name, unquoted parts and the quoted form. */
export interface BatchTableName {
  readonly schema: string | undefined;
  readonly name: string;
  readonly quoted: string;
}

export interface BatchInsertSpec {
  table: string;
  columns: readonly string[];
  rowCount: number;
  /** `update` undefined: do nothing on conflict; otherwise set these columns from the proposed row. */
  conflict?: { target: readonly string[]; update: readonly string[] | undefined };
  /** Columns to return (only when `generatedKeys` is 'returning'). */
  returning?: readonly string[];
}

export interface BatchUpdateSpec {
  table: string;
  /** Key columns first, then `sets`: the order of each row's parameters. */
  keys: readonly string[];
  sets: readonly string[];
  rowCount: number;
  /** From `columnTypes`, aligned with keys then sets. */
  types?: readonly (string | undefined)[];
}

export interface BatchSelectSpec {
  table: string;
  key: string;
  /** Columns to select; undefined selects every column. */
  columns: readonly string[] | undefined;
  idCount: number;
}

/** `(p1, p2), (p3, p4), ...` for `rowCount` rows of `width` parameters, each optionally cast. */
export function valuesRows(
  rowCount: number,
  width: number,
  placeholder: (index: number) => string,
  cast: (column: number, text: string) => string = (_, text) => text,
): string {
  const rows: string[] = new Array(rowCount);
  let index = 1;
  for (let r = 0; r < rowCount; r++) {
    const cells: string[] = new Array(width);
    for (let c = 0; c < width; c++) cells[c] = cast(c, placeholder(index++));
    rows[r] = `(${cells.join(', ')})`;
  }
  return rows.join(', ');
}

/** The select list: the given columns or `*`. */
export function selectList(columns: readonly string[] | undefined): string {
  return columns === undefined ? '*' : columns.join(', ');
}

/** `SELECT ... WHERE key IN (?, ?, ...)`: the chunked form for dialects without array parameters. */
export function selectInList(spec: BatchSelectSpec): string {
  return `SELECT ${selectList(spec.columns)} FROM ${spec.table} WHERE ${spec.key} IN (${new Array(spec.idCount).fill('?').join(', ')})`;
}

/** `INSERT INTO t (a, b) VALUES (...)`: the part every dialect shares. */
export function insertHead(spec: BatchInsertSpec, placeholder: (index: number) => string): string {
  return `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES ${valuesRows(spec.rowCount, spec.columns.length, placeholder)}`;
}

/** PostgreSQL and SQLite share `ON CONFLICT (...) DO NOTHING | DO UPDATE SET c = excluded.c` and RETURNING. */
export function onConflictAndReturning(spec: Omit<BatchInsertSpec, 'rowCount'>): string {
  let text = '';
  if (spec.conflict !== undefined) {
    const target = spec.conflict.target.length > 0 ? ` (${spec.conflict.target.join(', ')})` : '';
    const update = spec.conflict.update;
    text +=
      update === undefined
        ? ` ON CONFLICT${target} DO NOTHING`
        : ` ON CONFLICT${target} DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  }
  if (spec.returning !== undefined && spec.returning.length > 0) text += ` RETURNING ${spec.returning.join(', ')}`;
  return text;
}
