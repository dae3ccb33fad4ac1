import { type BatchDialect, insertHead, onConflictAndReturning, selectInList, valuesRows } from '../batch-dialect.js';

const placeholder = (): string => '?';

/**
 * SQLite's set-at-a-time shapes: multi-row VALUES with ON CONFLICT and RETURNING (3.35+), chunked
 * IN lists, and UPDATE ... FROM (VALUES ...) (3.33+; better-sqlite3 bundles a newer SQLite).
 */
export const sqliteBatch: BatchDialect = {
  // SQLITE_MAX_VARIABLE_NUMBER's default since 3.32.
  maxBindParameters: 32_766,
  // 500-row statements inserted 100k rows about twice as fast as 8k-row ones (prepare and bind cost).
  maxRowsPerStatement: 500,
  generatedKeys: 'returning',
  selectByIds: 'in-list',
  insertSql: (spec) => insertHead(spec, placeholder) + onConflictAndReturning(spec),
  selectByIdsSql: selectInList,
  updateSql(spec) {
    // A VALUES subquery cannot name its columns in SQLite; they are column1, column2, ...
    const column = (i: number): string => `spillway_v.column${i + 1}`;
    const values = valuesRows(spec.rowCount, spec.keys.length + spec.sets.length, placeholder);
    return (
      `UPDATE ${spec.table} AS spillway_t SET ${spec.sets.map((c, i) => `${c} = ${column(spec.keys.length + i)}`).join(', ')} ` +
      `FROM (VALUES ${values}) AS spillway_v ` +
      `WHERE ${spec.keys.map((k, i) => `spillway_t.${k} = ${column(i)}`).join(' AND ')}`
    );
  },
};
