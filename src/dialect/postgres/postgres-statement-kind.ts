/**
 * What the PostgreSQL multiplexer needs to know about a statement from its text alone. Each test
 * runs once per statement text where it can: the multiplexer caches `runsAlone` in the text's shape.
 */

/**
 * Statements that change the session (transactions, settings, LISTEN, COPY, cursors, locks) take a
 * connection of their own: sharing would leak their state into other callers' statements.
 */
const SESSION_STATEMENT =
  /^\s*(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare|deallocate|set|reset|discard|listen|unlisten|copy|declare|fetch|move|close|lock|load)\b/i;

/** Writes: they may wait on a row lock at any moment, and their commit waits for the WAL flush. */
const WRITE_STATEMENT =
  /^\s*(?:insert|update|delete|merge|call|do|create|alter|drop|truncate|grant|revoke|vacuum|analyze|refresh|cluster|reindex|comment|security|import)\b/i;
const WITH_STATEMENT = /^\s*with\b/i;
const WRITE_KEYWORD = /\b(?:insert|update|delete|merge)\b/i;
/** Reads that take row or advisory locks, and so may wait on another transaction. */
const LOCKING_READ = /\bfor\s+(?:no\s+key\s+update|update|key\s+share|share)\b|\bpg_(?:try_)?advisory_(?:xact_)?lock/i;

/** True when the statement needs a session of its own (never shared). */
export function needsSession(text: string): boolean {
  return SESSION_STATEMENT.test(text);
}

/**
 * True when a shared statement must run alone on its connection, whatever it cost before: a write
 * (an `UPDATE` that waits two seconds on a row lock would hold every statement pipelined behind it),
 * a data-modifying `WITH`, or a read that takes locks (`FOR UPDATE`, advisory locks).
 */
export function runsAlone(text: string): boolean {
  if (WRITE_STATEMENT.test(text) || LOCKING_READ.test(text)) return true;
  return WITH_STATEMENT.test(text) && WRITE_KEYWORD.test(text);
}

const COMMENTS = /--[^\n]*|\/\*[\s\S]*?\*\//g;
const DOLLAR_QUOTED = /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$/g;
/** E'...' strings take backslash escapes (`\'` among them); the others only doubled quotes. */
const ESCAPE_STRING_LITERAL = /(?<![A-Za-z0-9_$])[eE]'(?:[^'\\]|\\[\s\S]|'')*'/g;
const STRING_LITERAL = /(?<![A-Za-z0-9_$])(?:[bBxXnN]|[uU]&)?'(?:[^']|'')*'/g;
const NUMBER_LITERAL = /(?<![A-Za-z0-9_$.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_])/g;
/** Longest statement text shown. */
const SHOWN_CHARS = 200;

/**
 * A statement text fit to show on an endpoint: comments dropped, string, dollar-quoted and numeric
 * literals replaced by `?` (as pg_stat_statements shows them), whitespace collapsed, cut at 200
 * characters. Literals may carry personal data or secrets; parameters (`$1`) are kept.
 */
export function redactStatement(text: string): string {
  const redacted = text
    .replace(COMMENTS, ' ')
    .replace(DOLLAR_QUOTED, '?')
    .replace(ESCAPE_STRING_LITERAL, '?')
    .replace(STRING_LITERAL, '?')
    .replace(NUMBER_LITERAL, '?')
    .replace(/\s+/g, ' ')
    .trim();
  return redacted.length > SHOWN_CHARS ? `${redacted.slice(0, SHOWN_CHARS - 1)}…` : redacted;
}
