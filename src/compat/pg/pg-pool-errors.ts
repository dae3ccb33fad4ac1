import { PoolTimeoutError, SpillwayError, type TimeoutPoolStatus } from '../../errors.js';

/**
 * pg-pool's own error messages, word for word: applications match them in retry logic and tests.
 * Each is a SpillwayError, so it also carries a stable `code`; the message is pg-pool's.
 */
export const PG_POOL_MESSAGES = {
  ended: 'Cannot use a pool after calling end on the pool',
  endedTwice: 'Called end on pool more than once',
  releasedTwice: 'Release called on client which has already been released to the pool.',
  checkoutTimeout: 'timeout exceeded when trying to connect',
  connectTimeout: 'Connection terminated due to connection timeout',
  functionAsQuery: 'Passing a function as the first parameter to pool.query is not supported',
} as const;

/** `connect()`, `query()` or `end()` after `end()`. */
export function poolEndedError(): SpillwayError {
  return new SpillwayError('POOL_CLOSED', PG_POOL_MESSAGES.ended);
}

/** A second `end()`. */
export function endedTwiceError(): SpillwayError {
  return new SpillwayError('POOL_CLOSED', PG_POOL_MESSAGES.endedTwice);
}

/** A second `release()` of one checkout. */
export function releasedTwiceError(): SpillwayError {
  return new SpillwayError('RELEASED_TWICE', PG_POOL_MESSAGES.releasedTwice);
}

/** A checkout that waited `connectionTimeoutMillis` for a busy pool: pg-pool's message, Spillway's fields. */
export interface PgCheckoutTimeoutError extends SpillwayError {
  readonly code: 'POOL_TIMEOUT';
  /** The pool when the wait ended (size, checked out, idle, waiting). */
  readonly status: TimeoutPoolStatus;
  readonly timeoutMs: number;
}

/**
 * The facade's form of the core's POOL_TIMEOUT: pg-pool's message, with the core's status, timeout and
 * cause (the last connect failure) kept as fields. Anything else passes through untouched.
 */
export function asPgPoolError(error: unknown): unknown {
  if (!(error instanceof PoolTimeoutError)) return error;
  const mapped = new SpillwayError(
    'POOL_TIMEOUT',
    PG_POOL_MESSAGES.checkoutTimeout,
    error.cause === undefined ? undefined : { cause: error.cause },
  );
  return Object.assign(mapped, { status: error.status, timeoutMs: error.timeoutMs }) as PgCheckoutTimeoutError;
}

/** A new client that did not connect within `connectionTimeoutMillis`; `cause` is pg's own error. */
export function connectTimeoutError(cause: unknown): SpillwayError {
  return new SpillwayError('CONNECT_TIMEOUT', PG_POOL_MESSAGES.connectTimeout, { cause });
}
