import { QueryInvalidError } from '../errors.js';

/**
 * The `sql` tagged template: dialect-neutral and always parameterised. Values become bind
 * parameters ($1 or ?); they are never spliced into the text. Fragments nest.
 *
 * A value binds the same way on every dialect, or is refused with QUERY_INVALID before anything is
 * sent: strings, finite numbers, bigints, booleans, null/undefined (NULL), valid Dates and
 * Buffers/Uint8Arrays are bound; `sql.json(value)` binds a value as its JSON text; `sql.join(list)`
 * makes a list of parameters (`IN (${sql.join(ids)})`). Plain objects and arrays are refused: pg would
 * bind them as JSON or a PostgreSQL array, mysql2 would expand them into SQL, better-sqlite3 would
 * take an object as named parameters, so no one meaning holds everywhere. Functions, symbols, NaN
 * and Infinity are always refused.
 *
 * @example db.query(sql`SELECT * FROM users WHERE id = ${id} AND ${sql.identifier('org')} = ${org}`)
 */
export class SqlFragment {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }

  /** Render for a dialect: its placeholder style and identifier quoting. */
  compile(dialect: { placeholder(index: number): string; quoteIdentifier(name: string): string }): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = render(this, dialect, values);
    return { text, values };
  }
}

/** A value bound as its JSON text inside an `sql` template (`sql.json(value)`). */
export class SqlJson {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/** A quoted identifier inside an `sql` template. */
export class SqlIdentifier {
  readonly names: readonly string[];
  constructor(names: readonly string[]) {
    this.names = names;
  }
}

function render(
  fragment: SqlFragment,
  dialect: { placeholder(index: number): string; quoteIdentifier(name: string): string },
  values: unknown[],
): string {
  let text = fragment.strings[0] ?? '';
  for (let i = 0; i < fragment.values.length; i++) {
    const value = fragment.values[i];
    if (value instanceof SqlFragment) text += render(value, dialect, values);
    else if (value instanceof SqlIdentifier) text += value.names.map((n) => dialect.quoteIdentifier(n)).join('.');
    else {
      values.push(bindable(value, values.length + 1, text));
      text += dialect.placeholder(values.length);
    }
    text += fragment.strings[i + 1] ?? '';
  }
  return text;
}

/** `value` as every dialect binds it alike, or QUERY_INVALID saying why not and what to use. */
function bindable(value: unknown, position: number, textBefore: string): unknown {
  // `textBefore`: the statement rendered so far, to point at the value in the message.
  switch (typeof value) {
    case 'string':
    case 'bigint':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      throw refused(position, textBefore, `${value}, which the databases do not store alike`);
    case 'function':
      throw refused(position, textBefore, 'a function');
    case 'symbol':
      throw refused(position, textBefore, 'a symbol');
  }
  if (value === null || Buffer.isBuffer(value)) return value;
  if (value instanceof SqlJson) return jsonText(value.value, position, textBefore);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw refused(position, textBefore, 'an invalid Date');
    return value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) {
    throw refused(position, textBefore, 'an array; use sql.join(list) for a list of parameters, or sql.json(value) for JSON');
  }
  const kind = Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null ? 'a plain object' : 'an object';
  throw refused(position, textBefore, `${kind}; use sql.json(value) to bind it as JSON`);
}

function jsonText(value: unknown, position: number, textBefore: string): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw refused(
      position,
      textBefore,
      `sql.json of a value JSON cannot encode (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return text ?? null;
}

function refused(position: number, textBefore: string, what: string): QueryInvalidError {
  const before = textBefore.trimEnd().slice(-40);
  return new QueryInvalidError(`sql value #${position}${before === '' ? '' : ` (after "${before}")`} is ${what}; nothing was sent`);
}

export interface SqlTag {
  (strings: TemplateStringsArray, ...values: unknown[]): SqlFragment;
  /** A table or column name, quoted for the dialect (`schema.table` as two names). */
  identifier(...names: string[]): SqlIdentifier;
  /** Join fragments or values with a separator (values become parameters). */
  join(items: readonly unknown[], separator?: string): SqlFragment;
  /** Trusted SQL text, for keywords chosen by your code, never for user input. */
  unsafe(text: string): SqlFragment;
  /** A value bound as its JSON text, alike on every dialect (a json/jsonb column, JSON functions). */
  json(value: unknown): SqlJson;
}

export const sql: SqlTag = Object.assign((strings: TemplateStringsArray, ...values: unknown[]) => new SqlFragment(strings, values), {
  identifier: (...names: string[]) => new SqlIdentifier(names),
  join(items: readonly unknown[], separator = ', '): SqlFragment {
    const strings: string[] = [''];
    for (let i = 1; i < items.length; i++) strings.push(separator);
    if (items.length > 0) strings.push('');
    return new SqlFragment(items.length === 0 ? [''] : strings, items);
  },
  unsafe: (text: string) => new SqlFragment([text], []),
  json: (value: unknown) => new SqlJson(value),
});
