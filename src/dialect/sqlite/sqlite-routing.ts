/**
 * Which statements may run on a reader connection. Anything not clearly a read goes to the one
 * writer, so a mistake costs parallelism, never a lock wait on the event loop; reader connections
 * are also opened with `query_only`, so a misrouted write fails instead of taking the write lock.
 */
const READ_START = /^\s*(?:SELECT|VALUES|EXPLAIN)\b/i;
const WITH_START = /^\s*WITH\b/i;
const WRITE_WORD = /\b(?:INSERT|UPDATE|DELETE|REPLACE)\b/i;

export function isSqliteWrite(text: string): boolean {
  if (READ_START.test(text)) return false;
  if (WITH_START.test(text)) return WRITE_WORD.test(text);
  return true;
}
