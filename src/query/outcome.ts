import type { Dialect } from '../dialect/dialect.js';
import { outcomeOf, ResultUnknownError, withOutcome } from '../errors.js';
import type { RetryReason } from '../resilience/retry.js';

/**
 * Statements that only read: the first keyword is one of these (EXPLAIN without ANALYZE, which runs
 * the statement). Everything else counts as a write, so an answer lost on it is RESULT_UNKNOWN.
 */
const READ_KEYWORDS = new Set(['select', 'show', 'values', 'table', 'explain', 'describe', 'desc']);
/** Inside a read-looking statement: a data-modifying CTE, SELECT INTO, EXPLAIN ANALYZE, or a sequence bump. */
const WRITES_INSIDE = /\b(insert|update|delete|merge|into|analyze|nextval|setval)\b/i;

/** True when `text` may change data (conservative: anything not plainly a read). */
export function mayWrite(text: string): boolean {
  const match = /^[\s(]*(?:(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)[\s(]*)*([a-z]+)/i.exec(text);
  const keyword = match?.[1]?.toLowerCase();
  if (keyword === undefined) return true;
  if (keyword === 'with') return WRITES_INSIDE.test(text);
  return !READ_KEYWORDS.has(keyword) || WRITES_INSIDE.test(text);
}

/** A checkout's failure: whatever broke underneath, this call's statement never went out. */
export function checkoutFailure(error: unknown): unknown {
  return withOutcome(error, 'not-sent');
}

/**
 * A statement's failure as its call reports it. When its answer was lost and it committed on its own
 * (a write outside a transaction) or was a COMMIT, it becomes RESULT_UNKNOWN: it may have been
 * applied. An error that came without an outcome is `unknown`: never claim less than may be true.
 */
export function statementFailure(error: unknown, committing: 'commit' | 'write' | undefined): unknown {
  const outcome = outcomeOf(error);
  if (outcome === undefined) return withOutcome(error, 'unknown');
  if (outcome === 'unknown' && committing !== undefined) return new ResultUnknownError(committing, error);
  return error;
}

/**
 * Which failures `retry` may run again: nothing sent; the server's rollback in a conflict (whole
 * transactions, or a statement that was its own); a lost answer only when the caller said the call
 * is idempotent.
 */
export function retryReason(dialect: Dialect, error: unknown, idempotent: boolean): RetryReason | undefined {
  const outcome = outcomeOf(error);
  if (outcome === 'not-sent') return 'not_sent';
  if (outcome === 'unknown') return idempotent ? 'unknown' : undefined;
  return dialect.transactionConflict?.(error);
}
