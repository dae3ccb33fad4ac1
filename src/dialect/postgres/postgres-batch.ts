import { type BatchDialect, insertHead, onConflictAndReturning, selectList, valuesRows } from '../batch-dialect.js';

const placeholder = (index: number): string => `$${index}`;

/**
 * PostgreSQL's set-at-a-time shapes: multi-row VALUES with ON CONFLICT and RETURNING (large batches
 * as one array per column through unnest, about twice as fast to bind and plan), `= ANY($1)`
 * for ids (one parameter, so one round trip for any number of ids), and UPDATE ... FROM (VALUES ...).
 */
export const postgresBatch: BatchDialect = {
  // The Bind message counts parameters in an unsigned 16-bit field.
  maxBindParameters: 65_535,
  generatedKeys: 'returning',
  selectByIds: 'array',
  insertSql: (spec) => insertHead(spec, placeholder) + onConflictAndReturning(spec),
  insertFromColumnsSql: (spec) =>
    `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) SELECT * FROM unnest(${spec.types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})` +
    onConflictAndReturning(spec),
  copyInsert: {
    sql: (spec) => `COPY ${spec.table} (${spec.columns.join(', ')}) FROM STDIN`,
    // pg sends a Buffer as a binary parameter, which COPY's text format would carry differently.
    accepts: (value) => !(typeof value === 'object' && value !== null && ArrayBuffer.isView(value)),
  },
  selectByIdsSql: (spec) => `SELECT ${selectList(spec.columns)} FROM ${spec.table} WHERE ${spec.key} = ANY($1)`,
  updateSql(spec) {
    const columns = [...spec.keys, ...spec.sets];
    // Untyped parameters in VALUES would be resolved as text; cast each to the target column's type.
    const cast = (column: number, text: string): string => {
      const type = spec.types?.[column];
      return type === undefined ? text : `${text}::${type}`;
    };
    const values = valuesRows(spec.rowCount, columns.length, placeholder, cast);
    return (
      `UPDATE ${spec.table} AS spillway_t SET ${spec.sets.map((c) => `${c} = spillway_v.${c}`).join(', ')} ` +
      `FROM (VALUES ${values}) AS spillway_v (${columns.join(', ')}) ` +
      `WHERE ${spec.keys.map((k) => `spillway_t.${k} = spillway_v.${k}`).join(' AND ')}`
    );
  },
  async columnTypes(run, table, columns) {
    // The type without its modifier (varchar, not varchar(20)): an explicit cast to varchar(20)
    // would silently truncate, while assignment to the column still checks the length.
    const { rows } = await run(
      'SELECT attname AS name, format_type(atttypid, NULL) AS type FROM pg_attribute ' +
        'WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
      [table.quoted],
    );
    const types = new Map(rows.map((r) => [r.name as string, r.type as string]));
    return columns.map((c) => types.get(c));
  },
};
