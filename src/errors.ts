/**
 * Every error Spillway raises is a {@link SpillwayError} with a stable `code`.
 * The codes and their meaning live in one table so that docs and tests can check them.
 */

/** Stable error codes and what each one means (documented in README and checked by a test). */
export const ERROR_CODES = {
  CONFIG_INVALID:
    "A configuration value is missing or invalid; raised before anything connects, or on connecting when the server's TLS cannot satisfy the TLS settings (not retried).",
  POOL_TIMEOUT: 'No connection became free within checkoutTimeoutMs; the message carries the pool status.',
  POOL_CLOSED: 'The pool is closing or closed and takes no new checkouts.',
  CIRCUIT_OPEN: 'The circuit breaker is open after repeated connectivity failures; the call failed at once.',
  CONNECT_TIMEOUT: 'Opening one connection took longer than connectTimeoutMs.',
  CONNECTION_LOST: 'The connection broke (reset, refused, server gone) while in use.',
  STATEMENT_TIMEOUT: 'A statement ran longer than its timeout (statementTimeoutMs or the call timeoutMs).',
  LOCK_TIMEOUT: 'A statement waited longer than lockTimeoutMs for a row or table lock.',
  ACQUIRE_ABORTED: "The caller's AbortSignal fired while it waited for a connection.",
  LEAK_RECLAIMED: 'The connection was held past leakThresholdMs and taken back by the pool.',
  BATCH_INVALID: 'A batch operation was given an invalid shape; nothing was sent.',
  QUERY_INVALID:
    "A statement's input was refused before anything was sent (a value the sql tag cannot bind, more parameters than the database accepts); the connection is untouched.",
  RELEASED_TWICE: 'release() was called on a lease that had already been released.',
  LEASE_RELEASED:
    "A connection handle was used after its release (or a transaction's handle after its callback settled); nothing was sent.",
  RESULT_UNKNOWN:
    'A COMMIT or an autocommit write was sent and its answer was lost (connection lost, client-side timeout): it may have been applied.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Whether a failed call may have changed the database, the one question a caller asks before retrying:
 * - `not-sent`: nothing reached the server (no connection, breaker open, connect failure, a connection
 *   found dead before the write, input refused): safe to retry;
 * - `rejected`: the server answered with an error, so nothing was applied (SQL errors, and statement
 *   and lock timeouts the server reported);
 * - `unknown`: the statement was written and its answer never came: it may have been applied.
 */
export type Outcome = 'not-sent' | 'rejected' | 'unknown';

/** Each code's outcome unless the raiser knows better (a server-reported timeout is `rejected`). */
const DEFAULT_OUTCOMES: Readonly<Record<ErrorCode, Outcome>> = {
  CONFIG_INVALID: 'not-sent',
  POOL_TIMEOUT: 'not-sent',
  POOL_CLOSED: 'not-sent',
  CIRCUIT_OPEN: 'not-sent',
  CONNECT_TIMEOUT: 'not-sent',
  // Mid-flight unless the raiser says it happened before the write: never claim less than may be true.
  CONNECTION_LOST: 'unknown',
  STATEMENT_TIMEOUT: 'unknown',
  LOCK_TIMEOUT: 'rejected',
  ACQUIRE_ABORTED: 'not-sent',
  LEAK_RECLAIMED: 'not-sent',
  BATCH_INVALID: 'not-sent',
  QUERY_INVALID: 'not-sent',
  RELEASED_TWICE: 'not-sent',
  LEASE_RELEASED: 'not-sent',
  RESULT_UNKNOWN: 'unknown',
};

/** What every Spillway error may be given beside its code and message. */
export interface SpillwayErrorOptions {
  /** The error underneath (the driver's, or Node's). */
  cause?: unknown;
  /** The connection this happened on can never be used again: it is discarded, and the breaker counts it. */
  connectionUnusable?: boolean;
  /** Overrides the code's usual {@link Outcome}. */
  outcome?: Outcome;
}

/** Base class of every error Spillway raises. `code` is stable across versions. */
export class SpillwayError extends Error {
  readonly code: ErrorCode;
  /**
   * Whether the failed call may have changed the database (see {@link Outcome}). Not readonly: the
   * query layer settles it for the call as a whole (a checkout's failure is `not-sent` whatever
   * broke underneath).
   */
  outcome: Outcome;
  /** True when the connection this happened on must be discarded rather than returned to the pool. */
  readonly connectionUnusable: boolean;
  constructor(code: ErrorCode, message: string, options?: SpillwayErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    this.outcome = options?.outcome ?? DEFAULT_OUTCOMES[code];
    this.connectionUnusable = options?.connectionUnusable === true;
  }
}

/** The `outcome` an error carries, if any (Spillway's errors always do; a driver's once passed through). */
export function outcomeOf(error: unknown): Outcome | undefined {
  const outcome = (error as { outcome?: unknown } | null | undefined)?.outcome;
  return outcome === 'not-sent' || outcome === 'rejected' || outcome === 'unknown' ? outcome : undefined;
}

/**
 * Give `error` its outcome: set on Spillway's errors, added as a plain property to a driver's error
 * (nothing else about it changes). Values that cannot carry a property are returned as they are.
 */
export function withOutcome<E>(error: E, outcome: Outcome): E {
  if (error !== null && typeof error === 'object' && Object.isExtensible(error)) (error as { outcome?: Outcome }).outcome = outcome;
  return error;
}

/** True when `error` says its connection must be discarded (the typed flag of Spillway's errors). */
export function isConnectionUnusable(error: unknown): boolean {
  return error instanceof SpillwayError && error.connectionUnusable;
}

/** A configuration value is invalid. `variable` names the env variable or option. */
export class ConfigError extends SpillwayError {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super('CONFIG_INVALID', message);
    this.variable = variable;
  }
}

/**
 * TLS could not be set up as configured: the server offers no TLS while the mode requires it, its
 * certificate failed verification (untrusted CA, another host name), or the handshake was refused.
 * Code CONFIG_INVALID: another attempt would fail the same way, so start-up does not retry it and
 * the circuit breaker does not count it. `variable` names the setting that asked for TLS (`sslmode`,
 * `PGSSLMODE`, `ssl-mode`, `tls.mode`); `cause` is the driver's or Node's error.
 */
export class TlsError extends ConfigError {
  constructor(variable: string, message: string, cause?: unknown) {
    super(variable, message);
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  }
}

/** Snapshot carried by a checkout timeout (HikariCP's total/active/idle/waiting). */
export interface TimeoutPoolStatus {
  size: number;
  maxOverflow: number;
  checkedOut: number;
  checkedIn: number;
  overflow: number;
  waiting: number;
}

export class PoolTimeoutError extends SpillwayError {
  readonly status: TimeoutPoolStatus;
  readonly timeoutMs: number;
  constructor(poolName: string, status: TimeoutPoolStatus, timeoutMs: number, cause?: unknown) {
    super(
      'POOL_TIMEOUT',
      `Pool "${poolName}" limit of size ${status.size} overflow ${status.maxOverflow} reached, ` +
        `connection timed out, timeout ${(timeoutMs / 1000).toFixed(2)}s ` +
        `(checkedOut=${status.checkedOut}, idle=${status.checkedIn}, overflow=${status.overflow}, waiting=${status.waiting})`,
      cause === undefined ? undefined : { cause },
    );
    this.status = status;
    this.timeoutMs = timeoutMs;
  }
}

export class PoolClosedError extends SpillwayError {
  constructor(poolName: string) {
    super('POOL_CLOSED', `Pool "${poolName}" is closed`);
  }
}

export class CircuitOpenError extends SpillwayError {
  constructor(poolName: string, retryInMs: number, cause?: unknown) {
    super(
      'CIRCUIT_OPEN',
      `Pool "${poolName}": circuit breaker is open after repeated connection failures; next trial in ${Math.max(0, Math.round(retryInMs))}ms`,
      cause === undefined ? undefined : { cause },
    );
  }
}

export class ConnectTimeoutError extends SpillwayError {
  constructor(target: string, timeoutMs: number, cause?: unknown) {
    super('CONNECT_TIMEOUT', `Connecting to ${target} timed out after ${timeoutMs}ms`, cause === undefined ? undefined : { cause });
  }
}

/**
 * The connection broke (reset, refused, server gone). `outcome` says whether the statement had been
 * written: `unknown` by default, `not-sent` when it broke before (or while connecting).
 */
export class ConnectionLostError extends SpillwayError {
  constructor(message: string, options?: SpillwayErrorOptions) {
    super('CONNECTION_LOST', message, options);
  }
}

/**
 * A statement ran past its timeout. Reported by the server it is `rejected` (the server stopped it);
 * raised by the client-side backstop (no answer at all) it is `unknown`, with `connectionUnusable`.
 */
export class StatementTimeoutError extends SpillwayError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, options?: SpillwayErrorOptions & { message?: string }) {
    super('STATEMENT_TIMEOUT', options?.message ?? `Statement timed out after ${timeoutMs}ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** A lock wait the server (or SQLite's busy_timeout) gave up on: the statement was refused, so `rejected`. */
export class LockTimeoutError extends SpillwayError {
  constructor(timeoutMs: number, options?: SpillwayErrorOptions) {
    super('LOCK_TIMEOUT', `Lock wait exceeded lockTimeoutMs (${timeoutMs}ms)`, options);
  }
}

/**
 * A COMMIT, or a write outside a transaction, was sent and its answer never came: it may have been
 * applied, or not. Never retried unless the call says `idempotent: true`; `cause` is the failure that
 * hid the answer (CONNECTION_LOST, or the client-side STATEMENT_TIMEOUT).
 */
export class ResultUnknownError extends SpillwayError {
  constructor(what: 'commit' | 'write', cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'RESULT_UNKNOWN',
      what === 'commit'
        ? `COMMIT was sent but its answer was lost (${reason}): the transaction may have been committed, or not`
        : `The write was sent but its answer was lost (${reason}): it may have been applied, or not`,
      { cause, outcome: 'unknown', connectionUnusable: true },
    );
  }
}

export class AcquireAbortedError extends SpillwayError {
  constructor(poolName: string, reason?: unknown) {
    super(
      'ACQUIRE_ABORTED',
      `Pool "${poolName}": acquire aborted by the caller's signal`,
      reason === undefined ? undefined : { cause: reason },
    );
  }
}

export class LeakReclaimedError extends SpillwayError {
  constructor(poolName: string, heldMs: number) {
    super('LEAK_RECLAIMED', `Pool "${poolName}": this connection was held for ${heldMs}ms, past leakThresholdMs, and was reclaimed`);
  }
}

export class BatchInvalidError extends SpillwayError {
  constructor(message: string) {
    super('BATCH_INVALID', message);
  }
}

/**
 * A statement was refused before anything was sent: a value that cannot be bound the same way on
 * every dialect, or more parameters than the database accepts in one statement. The call never
 * took a connection, so nothing ran and no connection was lost.
 */
export class QueryInvalidError extends SpillwayError {
  constructor(message: string) {
    super('QUERY_INVALID', message);
  }
}

export class ReleasedTwiceError extends SpillwayError {
  constructor(poolName: string) {
    super('RELEASED_TWICE', `Pool "${poolName}": release() called on a connection that was already released`);
  }
}

/**
 * A handle was used after it was released: an `acquire()` lease, a `withConnection` connection or a
 * transaction's `tx` once its callback settled. Nothing reached the connection, which may already
 * serve another borrower.
 */
export class LeaseReleasedError extends SpillwayError {
  constructor(poolName: string) {
    super(
      'LEASE_RELEASED',
      `Pool "${poolName}": this connection handle was already released (or its transaction has ended); acquire a new one`,
    );
  }
}

/**
 * Start-up gave up: the database stayed unreachable for `initializationTimeoutMs` despite retries
 * (HikariCP's initializationFailTimeout). Code CONNECT_TIMEOUT; `cause` is the last failure.
 */
export class InitializationError extends SpillwayError {
  readonly attempts: number;
  constructor(target: string, what: string, timeoutMs: number, attempts: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'CONNECT_TIMEOUT',
      `${what} on ${target} failed for ${timeoutMs}ms (initializationTimeoutMs) after ${attempts} attempt${attempts === 1 ? '' : 's'}; last error: ${reason}`,
      { cause },
    );
    this.attempts = attempts;
  }
}
