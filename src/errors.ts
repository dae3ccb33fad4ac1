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
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every error Spillway raises. `code` is stable across versions. */
export class SpillwayError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
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

export class ConnectionLostError extends SpillwayError {
  constructor(message: string, cause?: unknown) {
    super('CONNECTION_LOST', message, cause === undefined ? undefined : { cause });
  }
}

export class StatementTimeoutError extends SpillwayError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, cause?: unknown) {
    super('STATEMENT_TIMEOUT', `Statement timed out after ${timeoutMs}ms`, cause === undefined ? undefined : { cause });
    this.timeoutMs = timeoutMs;
  }
}

export class LockTimeoutError extends SpillwayError {
  constructor(timeoutMs: number, cause?: unknown) {
    super('LOCK_TIMEOUT', `Lock wait exceeded lockTimeoutMs (${timeoutMs}ms)`, cause === undefined ? undefined : { cause });
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
  /** Nothing reached the database: safe to fix and send again. */
  readonly outcome = 'not-sent' as const;
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
