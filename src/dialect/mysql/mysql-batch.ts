import { type BatchDialect, insertHead, selectInList } from '../batch-dialect.js';

const placeholder = (): string => '?';

/**
 * MySQL/MariaDB set-at-a-time shapes. No RETURNING on MySQL: generated keys come from the insert
 * id range. Updates JOIN a derived table of UNION ALL SELECTs, which MySQL 5.7, 8 and MariaDB all
 * accept (VALUES ROW() is MySQL 8 only, MariaDB's table value constructor names columns differently).
 */
export const mysqlBatch: BatchDialect = {
  // The prepared-statement protocol counts parameters in 16 bits.
  maxBindParameters: 65_535,
  // Rows per statement: see bench/RESULTS.md ("MySQL insert: where the time goes").
  maxRowsPerStatement: 500,
  // Binary parameters: no escaping into the text (which sql_mode NO_BACKSLASH_ESCAPES would break),
  // and the server skips parsing every value as a literal.
  preparedInserts: true,
  generatedKeys: 'insert-id',
  selectByIds: 'in-list',
  insertSql(spec) {
    let text = insertHead(spec, placeholder);
    const conflict = spec.conflict;
    if (conflict !== undefined) {
      // MySQL has no conflict target: any unique key collides. "Do nothing" is a no-op assignment,
      // not INSERT IGNORE, which would also swallow unrelated errors (truncation, bad values).
      const noop = conflict.target[0] ?? spec.columns[0]!;
      const update = conflict.update === undefined ? [`${noop} = ${noop}`] : conflict.update.map((c) => `${c} = VALUES(${c})`);
      text += ` ON DUPLICATE KEY UPDATE ${update.join(', ')}`;
    }
    return text;
  },
  selectByIdsSql: selectInList,
  updateSql(spec) {
    const columns = [...spec.keys, ...spec.sets];
    const first = `SELECT ${columns.map((c) => `? AS ${c}`).join(', ')}`;
    const rest = ` UNION ALL SELECT ${columns.map(() => '?').join(', ')}`.repeat(spec.rowCount - 1);
    return (
      `UPDATE ${spec.table} AS spillway_t JOIN (${first}${rest}) AS spillway_v ` +
      `ON ${spec.keys.map((k) => `spillway_t.${k} = spillway_v.${k}`).join(' AND ')} ` +
      `SET ${spec.sets.map((c) => `spillway_t.${c} = spillway_v.${c}`).join(', ')}`
    );
  },
  async autoIncrement(run, table) {
    const { rows } = await run(
      'SELECT (SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) ' +
        "AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%' LIMIT 1) AS col, @@auto_increment_increment AS step",
      [table.schema ?? null, table.name],
    );
    const row = rows[0] ?? {};
    return { column: (row.col as string | null) ?? undefined, step: Number(row.step ?? 1) };
  },
};
