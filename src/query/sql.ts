/**
 * The `sql` tagged template: dialect-neutral and always parameterised. Values become bind
 * parameters ($1 or ?); they are never spliced into the text. Fragments nest.
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
      values.push(value);
      text += dialect.placeholder(values.length);
    }
    text += fragment.strings[i + 1] ?? '';
  }
  return text;
}

export interface SqlTag {
  (strings: TemplateStringsArray, ...values: unknown[]): SqlFragment;
  /** A table or column name, quoted for the dialect (`schema.table` as two names). */
  identifier(...names: string[]): SqlIdentifier;
  /** Join fragments or values with a separator (values become parameters). */
  join(items: readonly unknown[], separator?: string): SqlFragment;
  /** Trusted SQL text, for keywords chosen by your code, never for user input. */
  unsafe(text: string): SqlFragment;
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
});
