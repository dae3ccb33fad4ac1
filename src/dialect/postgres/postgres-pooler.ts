/** What statements need behind a transaction-mode server pooler (PgBouncer, Supavisor); shared by the exclusive and the multiplexed path. */

/**
 * Statements that must not be wrapped in a transaction behind a transaction pooler: transaction
 * control itself, and commands PostgreSQL refuses inside a transaction block.
 */
const UNWRAPPABLE =
  /^\s*(?:BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION|VACUUM|CLUSTER\b(?!.*\bON\b)|(?:CREATE|DROP|ALTER)\s+(?:DATABASE|TABLESPACE|SYSTEM|SUBSCRIPTION)|ALTER\s+SYSTEM|(?:CREATE\s+(?:UNIQUE\s+)?|DROP\s+|REINDEX\s+.*)INDEX\s+CONCURRENTLY|REINDEX\s+.*CONCURRENTLY|DISCARD|CHECKPOINT)\b/i;

/** `SET LOCAL` statements scoping the timeouts to the current transaction (transaction-pooler mode). */
export function localTimeouts(statementTimeoutMs: number, lockTimeoutMs: number): string {
  return `SET LOCAL statement_timeout = ${Math.max(0, Math.round(statementTimeoutMs))}; SET LOCAL lock_timeout = ${Math.max(0, Math.round(lockTimeoutMs))}`;
}

/**
 * Behind a transaction pooler no session setting holds, so a statement outside a transaction runs in
 * a short one of its own whose timeouts are set with SET LOCAL: this is its opening (one simple-query
 * message). Undefined when there is nothing to scope (both timeouts off) or the statement cannot run
 * in a transaction block.
 */
export function wrappingBegin(text: string, statementTimeoutMs: number, lockTimeoutMs: number): string | undefined {
  if ((statementTimeoutMs === 0 && lockTimeoutMs === 0) || UNWRAPPABLE.test(text)) return undefined;
  return `BEGIN; ${localTimeouts(statementTimeoutMs, lockTimeoutMs)}`;
}
