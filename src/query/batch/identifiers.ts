import type { BatchTableName } from '../../dialect/batch-dialect.js';
import type { Dialect } from '../../dialect/dialect.js';
import { BatchInvalidError } from '../../errors.js';

/**
 * A plain identifier: ASCII letter or underscore, then letters, digits, underscores; at most 63
 * characters (PostgreSQL's limit, under MySQL's 64). Anything else is refused rather than escaped,
 * so a name can never carry SQL, whatever the quoting rules of the dialect.
 */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Check one column or key name; returns it unchanged. */
export function checkIdentifier(name: unknown, what: string): string {
  if (typeof name !== 'string' || !PLAIN_IDENTIFIER.test(name)) {
    throw new BatchInvalidError(`${what} ${describe(name)} is not a plain identifier (letters, digits, _; not starting with a digit)`);
  }
  return name;
}

/** Check `table` or `schema.table` and quote it for the dialect. */
export function checkTable(dialect: Dialect, table: unknown): BatchTableName {
  if (typeof table !== 'string') throw new BatchInvalidError(`table ${describe(table)} must be a string`);
  const parts = table.split('.');
  if (parts.length > 2) throw new BatchInvalidError(`table ${describe(table)} must be "table" or "schema.table"`);
  for (const part of parts) checkIdentifier(part, 'table');
  const [first, second] = parts as [string, string | undefined];
  return {
    schema: second === undefined ? undefined : first,
    name: second ?? first,
    quoted: parts.map((p) => dialect.quoteIdentifier(p)).join('.'),
  };
}

/** Check a non-empty list of distinct identifiers. */
export function checkIdentifierList(names: unknown, what: string): string[] {
  if (!Array.isArray(names) || names.length === 0) throw new BatchInvalidError(`${what} must be a non-empty array of column names`);
  const checked = names.map((n) => checkIdentifier(n, what));
  if (new Set(checked).size !== checked.length) throw new BatchInvalidError(`${what} lists a column twice`);
  return checked;
}

/** A value shown in a message: short, and never more than a prefix of user data. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}
