import type { Dialect, QueryResult, StatementOptions, TransactionOptions } from '../dialect/dialect.js';
import {
  ConnectionLostError,
  isConnectionUnusable,
  LeaseReleasedError,
  outcomeOf,
  QueryInvalidError,
  ReleasedTwiceError,
  withOutcome,
} from '../errors.js';
import { coarseNow } from '../pool/clock.js';
import type { Lease } from '../pool/lease.js';
import type { PoolGate } from '../pool/pool.js';
import type { QueryObserver } from './observer.js';
import { mayWrite, statementFailure } from './outcome.js';
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
  if (typeof input !== 'string') throw withOutcome(new TypeError('query() takes SQL text or an sql`...` fragment'), 'not-sent');
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
  return dialect.connector.isDisconnect(error) || isConnectionUnusable(error);
}

/**
 * What every handle on one borrowed connection shares: the lease, the transaction state and the
 * statements in flight. Handles come and go (a transaction's `tx` ends with its callback); this lives
 * as long as the checkout.
 */
class Borrowed {
  readonly dialect: Dialect;
  readonly lease: Lease<unknown>;
  readonly observer: QueryObserver | undefined;
  /** Reports statement outcomes to the circuit breaker (the pool's gate), when one is attached. */
  readonly report: PoolGate['statementResult'];
  savepoints = 0;
  inTransaction = false;
  /** The connection-level failure that makes the connection unfit to return (it is discarded). */
  failure: unknown = undefined;
  /** Statements sent on this connection and not yet answered. */
  inFlight = 0;
  /** release() was called: no handle may use the connection again. */
  released = false;
  /** The error release() was given, kept while the lease waits for statements still in flight. */
  releaseError: unknown = undefined;

  constructor(dialect: Dialect, lease: Lease<unknown>, gate: PoolGate | undefined, observer: QueryObserver | undefined) {
    this.dialect = dialect;
    this.lease = lease;
    this.report = gate?.statementResult;
    this.observer = observer;
  }

  /** A statement (or BEGIN/COMMIT/ROLLBACK) settled: the last one out sends a released connection home. */
  settled(): void {
    if (--this.inFlight === 0 && this.released) this.sendHome();
  }

  /**
   * The lease goes home once nothing is in flight on it: a statement still running (sent and not
   * awaited before release) must not share the connection with its next borrower.
   */
  sendHome(): void {
    if (this.lease.released) return; // the pool took it back already (leak reclaimed, pool closed)
    this.lease.release(this.releaseError ?? this.failure);
  }
}

/**
 * A handle on one borrowed connection, with query methods: what `withConnection`, `transaction` and
 * `acquire` hand to the caller. Release it once (or let `await using` do it). Once released, and for
 * a transaction's `tx` once its callback has settled, every use fails LEASE_RELEASED and never
 * reaches the connection, which may already serve another borrower.
 */
export class Session {
  readonly #borrowed: Borrowed;
  /** The scope this handle was handed out for ended (its transaction callback settled). */
  #ended = false;

  constructor(dialect: Dialect, lease: Lease<unknown>, gate?: PoolGate, observer?: QueryObserver);
  /** @internal A transaction's handle on its session's connection. */
  constructor(borrowed: Borrowed);
  constructor(dialectOrBorrowed: Dialect | Borrowed, lease?: Lease<unknown>, gate?: PoolGate, observer?: QueryObserver) {
    this.#borrowed =
      dialectOrBorrowed instanceof Borrowed ? dialectOrBorrowed : new Borrowed(dialectOrBorrowed, lease as Lease<unknown>, gate, observer);
  }

  /** The driver's own connection (pg.Client, mysql2 Connection, better-sqlite3 Database). Throws LEASE_RELEASED once released. */
  get connection(): unknown {
    return this.#connection();
  }

  get dialect(): Dialect {
    return this.#borrowed.dialect;
  }

  get inTransaction(): boolean {
    return this.#borrowed.inTransaction;
  }

  /** True once this handle may no longer be used (released, or its transaction callback settled). */
  get released(): boolean {
    return this.#ended || this.#borrowed.released || this.#borrowed.lease.released;
  }

  /** Run one statement on this connection. */
  async query<R = Record<string, unknown>>(
    input: QueryInput,
    paramsOrOptions?: readonly unknown[] | StatementOptions,
    options?: StatementOptions,
  ): Promise<QueryResult<R>> {
    const borrowed = this.#borrowed;
    const connection = this.#connection();
    const { text, values, options: statementOptions } = normalizeQuery(borrowed.dialect, input, paramsOrOptions, options);
    const observer = borrowed.observer;
    const token = observer?.queryStart(text);
    const startedAt = borrowed.report === undefined ? 0 : coarseNow();
    borrowed.inFlight++;
    try {
      const result = await borrowed.dialect.query<R>(connection, text, values, statementOptions);
      observer?.queryEnd(token, undefined);
      borrowed.report?.(undefined, startedAt);
      return result;
    } catch (error) {
      observer?.queryEnd(token, error, borrowed.dialect.classifyFailure(error));
      if (mustDiscard(borrowed.dialect, error)) {
        borrowed.failure = error;
        borrowed.report?.(error, startedAt);
      }
      // Inside a transaction nothing is applied before its COMMIT; outside, a write commits on its own.
      throw statementFailure(error, !borrowed.inTransaction && mayWrite(text) ? 'write' : undefined);
    } finally {
      borrowed.settled();
    }
  }

  /**
   * Run `fn` in a transaction on this connection: commit, or roll back on throw. Nested calls use
   * savepoints, so an inner failure undoes only the inner work. `tx` is a handle of its own: once
   * `fn` has settled it refuses every use (LEASE_RELEASED), so a statement that outlives the
   * callback can never run after the COMMIT, outside the transaction it was written for.
   */
  async transaction<T>(fn: (tx: Session) => Promise<T>, options?: TransactionOptions): Promise<T> {
    const borrowed = this.#borrowed;
    const connection = this.#connection();
    if (borrowed.inTransaction) return this.#savepoint(fn);
    try {
      await this.#run(() => borrowed.dialect.begin(connection, options));
    } catch (error) {
      throw uncommitted(borrowed, statementFailure(error, undefined));
    }
    borrowed.inTransaction = true;
    const tx = new Session(borrowed);
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      tx.#ended = true;
      borrowed.inTransaction = false;
      if (borrowed.failure === undefined && !borrowed.lease.released) {
        await this.#run(() => borrowed.dialect.rollback(connection)).catch((rollbackError) => {
          borrowed.failure ??= rollbackError;
        });
      }
      throw uncommitted(borrowed, error);
    }
    tx.#ended = true;
    borrowed.inTransaction = false;
    this.#connection(); // released or reclaimed while fn ran: no COMMIT on a connection that is not ours
    if (borrowed.failure !== undefined) {
      // fn swallowed a failure that broke the connection: its transaction is gone, no COMMIT can save it.
      throw new ConnectionLostError("the transaction's connection broke before its COMMIT was sent; nothing was committed", {
        cause: borrowed.failure,
        outcome: 'not-sent',
      });
    }
    try {
      await this.#run(() => borrowed.dialect.commit(connection));
    } catch (error) {
      throw statementFailure(error, 'commit');
    }
    return result;
  }

  /**
   * Return the connection; after a connection-level failure it is discarded instead. A statement
   * still in flight keeps the connection until it is answered; no new one is accepted. A second
   * call throws RELEASED_TWICE.
   */
  release(error?: unknown): void {
    const borrowed = this.#borrowed;
    if (borrowed.released) {
      // RELEASED_TWICE (the lease throws it, unless the pool took the connection back meanwhile).
      if (!borrowed.lease.released) throw new ReleasedTwiceError(borrowed.lease.poolName);
      borrowed.lease.release(error);
      return;
    }
    borrowed.released = true;
    borrowed.releaseError = error;
    if (borrowed.inFlight === 0) borrowed.sendHome();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#borrowed.released) this.release();
  }

  /** The connection, if this handle may still use it; else LEASE_RELEASED (or the lease's own LEAK_RECLAIMED / POOL_CLOSED). */
  #connection(): unknown {
    const borrowed = this.#borrowed;
    if (this.#ended || borrowed.released) throw new LeaseReleasedError(borrowed.lease.poolName);
    return borrowed.lease.connection;
  }

  async #savepoint<T>(fn: (tx: Session) => Promise<T>): Promise<T> {
    const borrowed = this.#borrowed;
    const name = `spillway_sp_${++borrowed.savepoints}`;
    await this.query(`SAVEPOINT ${name}`);
    const tx = new Session(borrowed);
    try {
      const result = await fn(tx);
      tx.#ended = true;
      await this.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      tx.#ended = true;
      if (borrowed.failure === undefined && !this.released) await this.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  async #run(step: () => Promise<void>): Promise<void> {
    const borrowed = this.#borrowed;
    borrowed.inFlight++;
    try {
      await step();
    } catch (error) {
      if (mustDiscard(borrowed.dialect, error)) borrowed.failure = error;
      throw error;
    } finally {
      borrowed.settled();
    }
  }
}

/**
 * The error a transaction that ended before its COMMIT rejects with. Nothing was committed, so a lost
 * answer on this transaction's own connection (the very failure that broke it) is reported as what it
 * is for the transaction: its COMMIT was never sent. Errors from elsewhere (another call's, the
 * application's own) keep what they carry.
 */
function uncommitted(borrowed: Borrowed, error: unknown): unknown {
  if (error === borrowed.failure && outcomeOf(error) === 'unknown') return withOutcome(error, 'not-sent');
  return error;
}
