import type { QueryResult } from '../dialect.js';

type PgResult = { rows: unknown[]; rowCount: number | null; fields?: { name: string }[] };

/** pg's result in Spillway's shape (the driver's own result kept as `raw`). */
export function toResult<R>(raw: PgResult | PgResult[]): QueryResult<R> {
  // Several statements in one simple query (BEGIN; SET LOCAL ...) answer with one result each: the last one counts.
  const result = Array.isArray(raw) ? (raw[raw.length - 1] as PgResult) : raw;
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length, fields: result.fields, raw: result };
}
