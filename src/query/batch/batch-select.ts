import { BatchInvalidError } from '../../errors.js';
import { checkIdentifier, checkIdentifierList, checkTable } from './identifiers.js';
import type { BatchHost } from './run.js';
import { runBatch } from './run.js';
import { type BatchCallOptions, checkOptions, chunk, keyOf, rowsPerStatement } from './shape.js';

export interface BatchSelectOptions extends BatchCallOptions {
  /** The key column the ids are matched on (default `id`). */
  key?: string;
  /** Columns to return (default: every column). The key is read in any case, and returned only if listed. */
  columns?: readonly string[];
}

export interface BatchSelectResult<R = Record<string, unknown>> {
  /** Found rows in the order of the ids asked for (an id asked twice gives its row twice). */
  rows: R[];
  /** Ids asked for that no row has, in the order asked. */
  missing: unknown[];
  /** Statements sent: one on PostgreSQL, one per chunk of ids elsewhere. */
  statements: number;
}

const OPTIONS = ['tx', 'chunkSize', 'key', 'columns'];
const OP = 'batchSelectByIds';

/**
 * Rows for many ids in as few round trips as the dialect allows: `= ANY($1)` on PostgreSQL,
 * chunked `IN (...)` lists elsewhere. An empty `ids` array is a no-op.
 */
export async function batchSelectByIds<R = Record<string, unknown>>(
  host: BatchHost,
  table: string,
  ids: readonly unknown[],
  options?: BatchSelectOptions,
): Promise<BatchSelectResult<R>> {
  const { byKey, statements } = await selectByKey(planSelect(host, table, options), ids);
  const rows: R[] = [];
  const missing: unknown[] = [];
  for (const id of ids) {
    const row = byKey.get(keyOf(id, OP));
    if (row === undefined) missing.push(id);
    else rows.push(row as R);
  }
  return { rows, missing, statements };
}

/** A checked select: validated once, run for each batch of ids (the loader reuses it). */
export interface SelectPlan {
  readonly host: BatchHost;
  readonly options: Partial<BatchSelectOptions>;
  readonly table: string;
  readonly key: string;
  /** Columns sent in the select list (the key added when not asked for); undefined for every column. */
  readonly selected: readonly string[] | undefined;
  /** Whether the key was added and must be stripped from each row. */
  readonly stripKey: boolean;
}

/** Check table, key, columns and options; throws BATCH_INVALID before anything is sent. */
export function planSelect(host: BatchHost, table: string, options: BatchSelectOptions | undefined): SelectPlan {
  const opts = checkOptions(options, OPTIONS, OP);
  const target = checkTable(host.dialect, table);
  const key = checkIdentifier(opts.key ?? 'id', `${OP}: key`);
  const columns = opts.columns === undefined ? undefined : checkIdentifierList(opts.columns, `${OP}: columns`);
  // Read the key even when not asked for, to place each row; strip it afterwards.
  const stripKey = columns !== undefined && !columns.includes(key);
  const quote = (c: string): string => host.dialect.quoteIdentifier(c);
  return {
    host,
    options: opts,
    table: target.quoted,
    key,
    selected: columns && (stripKey ? [...columns, key] : columns).map(quote),
    stripKey,
  };
}

/** The rows found, by `keyOf` of their key: what batchSelectByIds and the loader both build on. */
export async function selectByKey(
  plan: SelectPlan,
  ids: readonly unknown[],
): Promise<{ byKey: Map<string, Record<string, unknown>>; statements: number }> {
  if (!Array.isArray(ids)) throw new BatchInvalidError(`${OP}: ids must be an array`);
  const batch = plan.host.dialect.batch;
  // Distinct ids only: the server does the work once, and the result map answers duplicates.
  const distinct = new Map<string, unknown>();
  for (const id of ids) distinct.set(keyOf(id, OP), id);
  const byKey = new Map<string, Record<string, unknown>>();
  if (distinct.size === 0) return { byKey, statements: 0 };

  const chunkSize = plan.options.chunkSize;
  const perStatement =
    batch.selectByIds === 'array'
      ? (chunkSize ?? distinct.size)
      : rowsPerStatement({ maxBindParameters: batch.maxBindParameters }, 1, chunkSize);
  const chunks = chunk([...distinct.values()], perStatement);
  const key = plan.host.dialect.quoteIdentifier(plan.key);
  // Reads need no transaction (and may use a SQLite reader); a caller's tx is joined so they see its uncommitted writes.
  await runBatch(
    plan.host,
    plan.options.tx,
    0,
    async (run) => {
      for (const slice of chunks) {
        const text = batch.selectByIdsSql({ table: plan.table, key, columns: plan.selected, idCount: slice.length });
        const { rows } = await run(text, batch.selectByIds === 'array' ? [slice] : slice);
        for (const row of rows) {
          const id = keyOf(row[plan.key], OP);
          if (plan.stripKey) delete row[plan.key];
          byKey.set(id, row);
        }
      }
    },
    true,
  );
  return { byKey, statements: chunks.length };
}
