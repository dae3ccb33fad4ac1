import type { QueryResult } from '../dialect.js';

/** pg's result in Spillway's shape (the driver's own result kept as `raw`). */
export function toResult<R>(result: { rows: unknown[]; rowCount: number | null; fields?: { name: string }[] }): QueryResult<R> {
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length, fields: result.fields, raw: result };
}
