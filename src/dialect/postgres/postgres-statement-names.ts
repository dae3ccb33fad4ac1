/**
 * Names for the parameterised statements the multiplexer sends, so each connection parses and plans
 * a statement once and afterwards only binds and executes it, as postgres.js and pgx do by default.
 * Side by side (bench/multiplex.ts, single-row select) this took 1.4x the queries per second at 10
 * and 100 callers with less client CPU: the server skips parse and plan, which on a machine shared
 * with the server is CPU the client gets back.
 *
 * Parameterless statements stay unnamed: they go in pg's one-message simple protocol, which measured
 * faster than bind/execute for them. Behind a transaction-mode pooler nothing is named (a prepared
 * statement lives on one server connection, and the pooler moves the client between them).
 *
 * Bounded: a pool names at most {@link NAMED_STATEMENTS_PER_POOL} texts, each on its second use, so
 * one-off texts (generated IN lists, literals in the SQL) neither take a name nor hold memory on the
 * server. Names are never deallocated: pg keeps them per connection, and recycling ends them.
 */
export const NAMED_STATEMENTS_PER_POOL = 256;
/** Texts remembered as seen once, waiting for their second use; cleared when full. */
const SEEN_ONCE_LIMIT = 4096;

export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #seenOnce = new Set<string>();
  readonly #prefix: string;
  #next = 0;

  constructor(prefix = 'spillway_') {
    this.#prefix = prefix;
  }

  /** The name to prepare `text` under, or undefined to send it unnamed. */
  nameFor(text: string): string | undefined {
    const name = this.#names.get(text);
    if (name !== undefined || this.#names.size >= NAMED_STATEMENTS_PER_POOL) return name;
    if (!this.#seenOnce.has(text)) {
      if (this.#seenOnce.size >= SEEN_ONCE_LIMIT) this.#seenOnce.clear();
      this.#seenOnce.add(text);
      return undefined;
    }
    this.#seenOnce.delete(text);
    return this.#assign(text);
  }

  /**
   * The server refused `failedName`, the prepared form of `text` (see {@link isRefusedPreparedStatement}):
   * later calls prepare it afresh under a new name, on every connection. A fresh name is the one that
   * is safe on every session: the old one may still exist there (a stale plan) or not at all (a
   * DISCARD ALL), and pg's own record of which names a connection holds is what went wrong. Calls
   * refused together share the first one's new name.
   */
  renameAfter(text: string, failedName: string): string {
    const current = this.#names.get(text);
    return current !== undefined && current !== failedName ? current : this.#assign(text);
  }

  get size(): number {
    return this.#names.size;
  }

  #assign(text: string): string {
    const name = `${this.#prefix}${this.#next++}`;
    this.#names.set(text, name);
    return name;
  }
}

/**
 * True when the server refused a prepared statement at bind time, before running anything, so that
 * sending it once more is safe: 0A000 "cached plan must not change result type" (the schema changed
 * under a `SELECT *`), or 26000 "prepared statement does not exist" (DEALLOCATE or DISCARD ALL ran on
 * the session, or the statement's own Parse failed earlier in the same pipeline).
 */
export function isRefusedPreparedStatement(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '26000') return true;
  return code === '0A000' && /cached plan must not change result type/i.test((error as Error).message);
}
