import type { Dialect, QueryResult, StatementOptions, TransactionOptions } from '../dialect/dialect.js';
import { QueryInvalidError } from '../errors.js';
import { coarseNow } from '../pool/clock.js';
import type { Lease } from '../pool/lease.js';
import type { PoolGate } from '../pool/pool.js';
import type { QueryObserver } from './observer.js';
import { SqlFragment } from './sql.js';

/** The arguments `query` accepts: dialect text with parameters, or an `sql` fragment. */
export type QueryInput = string | SqlFragment;

/**
 * Turn `query`'s flexible arguments into text, values and options. Input no database could take is
 * refused here with QUERY_INVALID, before a connection is borrowed: more parameters than the
 * dialect binds in one statement (PostgreSQL's protocol would wrap the count and fail the whole
 * connection), a function or a symbol as a value (drivers would send its source text or throw).
 */
export function normalizeQuery(
  dialect: Dialect,
  input: QueryInput,
  paramsOrOptions: readonly unknown[] | StatementOptions | undefined,
  maybeOptions: StatementOptions | undefined,
): { text: string; values: readonly unknown[] | undefined; options: StatementOptions | undefined } {
  if (input instanceof SqlFragment) {
    const { text, values } = input.compile(dialect);
    if (values.length > dialect.batch.maxBindParameters) throw tooManyParameters(dialect, values.length);
    return { text, values, options: Array.isArray(paramsOrOptions) ? maybeOptions : (paramsOrOptions as StatementOptions | undefined) };
  }
  if (typeof input !== 'string') throw new TypeError('query() takes SQL text or an sql`...` fragment');
  if (paramsOrOptions === undefined || Array.isArray(paramsOrOptions)) {
    if (paramsOrOptions !== undefined) checkParameters(dialect, paramsOrOptions as readonly unknown[]);
    return { text: input, values: paramsOrOptions as readonly unknown[] | undefined, options: maybeOptions };
  }
  return { text: input, values: undefined, options: paramsOrOptions as StatementOptions };
}

const DIALECT_LABELS: Readonly<Record<string, string>> = { postgres: 'PostgreSQL', mysql: 'MySQL/MariaDB', sqlite: 'SQLite' };

/**
 * Parameters given with dialect text keep their driver's meaning (a pg array, a mysql2 object), but
 * never a function or a symbol, and never more than one statement can bind.
 */
function checkParameters(dialect: Dialect, params: readonly unknown[]): void {
  if (params.length > dialect.batch.maxBindParameters) throw tooManyParameters(dialect, params.length);
  // On every statement with parameters: kept to a bare loop, the message built out of line.
  for (let i = 0; i < params.length; i++) {
    const kind = typeof params[i];
    if (kind === 'function' || kind === 'symbol') throw unbindable(i, kind);
  }
}

function unbindable(index: number, kind: string): QueryInvalidError {
  return new QueryInvalidError(`query parameter #${index + 1} is a ${kind}, which no database can bind; nothing was sent`);
}

function tooManyParameters(dialect: Dialect, count: number): QueryInvalidError {
  const limit = dialect.batch.maxBindParameters;
  return new QueryInvalidError(
    `a statement with ${count} parameters exceeds the ${limit} ${DIALECT_LABELS[dialect.name] ?? dialect.name} binds in one statement; ` +
      'nothing was sent (split it, or send a long list as one array or JSON parameter)',
  );
}

/** Whether an error leaves the connection unusable, so it must be discarded rather than returned. */
export function mustDiscard(dialect: Dialect, error: unknown): boolean {
  return dialect.connector.isDisconnect(error) || (error as { connectionUnusable?: boolean } | null)?.connectionUnusable === true;
}

/**
 * One borrowed connection with query methods: what `withConnection`, `transaction` and `acquire`
 * hand to the caller. Release it once (or let `await using` do it).
 */
export class Session {
  readonly #dialect: Dialect;
  readonly #lease: Lease<unknown>;
  readonly #observer: QueryObserver | undefined;
  #savepoints = 0;
  #inTransaction = false;
  #failure: unknown = undefined;
  /** Reports statement outcomes to the circuit breaker (the pool's gate), when one is attached. */
  readonly #report: PoolGate['statementResult'];

  constructor(dialect: Dialect, lease: Lease<unknown>, gate?: PoolGate, observer?: QueryObserver) {
    this.#dialect = dialect;
    this.#lease = lease;
    this.#report = gate?.statementResult;
    this.#observer = observer;
  }

  /** The driver's own connection (pg.Client, mysql2 Connection, better-sqlite3 Database). */
  get connection(): unknown {
    return this.#lease.connection;
  }

  get dialect(): Dialect {
    return this.#dialect;
  }

  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Run one statement on this connection. */
  async query<R = Record<string, unknown>>(
    input: QueryInput,
    paramsOrOptions?: readonly unknown[] | StatementOptions,
    options?: StatementOptions,
  ): Promise<QueryResult<R>> {
    const { text, values, options: statementOptions } = normalizeQuery(this.#dialect, input, paramsOrOptions, options);
    const observer = this.#observer;
    const token = observer?.queryStart(text);
    const startedAt = this.#report === undefined ? 0 : coarseNow();
    try {
      const result = await this.#dialect.query<R>(this.#lease.connection, text, values, statementOptions);
      observer?.queryEnd(token, undefined);
      this.#report?.(undefined, startedAt);
      return result;
    } catch (error) {
      observer?.queryEnd(token, error, this.#dialect.classifyFailure(error));
      if (mustDiscard(this.#dialect, error)) {
        this.#failure = error;
        this.#report?.(error, startedAt);
      }
      throw error;
    }
  }

  /**
   * Run `fn` in a transaction on this connection: commit, or roll back on throw. Nested calls use
   * savepoints, so an inner failure undoes only the inner work.
   */
  async transaction<T>(fn: (tx: Session) => Promise<T>, options?: TransactionOptions): Promise<T> {
    if (this.#inTransaction) return this.#savepoint(fn);
    await this.#run(() => this.#dialect.begin(this.#lease.connection, options));
    this.#inTransaction = true;
    let result: T;
    try {
      result = await fn(this);
    } catch (error) {
      this.#inTransaction = false;
      if (this.#failure === undefined) {
        await this.#run(() => this.#dialect.rollback(this.#lease.connection)).catch((rollbackError) => {
          this.#failure ??= rollbackError;
        });
      }
      throw error;
    }
    this.#inTransaction = false;
    await this.#run(() => this.#dialect.commit(this.#lease.connection));
    return result;
  }

  /** Return the connection; after a connection-level failure it is discarded instead. */
  release(error?: unknown): void {
    this.#lease.release(error ?? this.#failure);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#lease.released) this.release();
  }

  async #savepoint<T>(fn: (tx: Session) => Promise<T>): Promise<T> {
    const name = `spillway_sp_${++this.#savepoints}`;
    await this.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      if (this.#failure === undefined) await this.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  async #run(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (mustDiscard(this.#dialect, error)) this.#failure = error;
      throw error;
    }
  }
}
