import DataLoader from 'dataloader';
import { type BatchSelectOptions, planSelect, selectByKey } from './batch/batch-select.js';
import type { BatchHost } from './batch/run.js';
import { keyOf } from './batch/shape.js';

export interface LoaderOptions extends Pick<BatchSelectOptions, 'key' | 'columns' | 'tx' | 'chunkSize'> {
  /** Memoise rows for the loader's lifetime (default true): one loader per request, never shared. */
  cache?: boolean;
}

/**
 * A request-scoped loader: every `load(id)` made in one tick becomes one batchSelectByIds, so a
 * list of N parents needs one query for their children, not N. A missing id resolves to undefined.
 * Create one per request; its cache is not invalidated by writes.
 *
 * @example
 * const authors = db.loader('authors', { key: 'id' });
 * const withAuthors = await Promise.all(books.map(async (b) => ({ ...b, author: await authors.load(b.author_id) })));
 */
export function createLoader<K = unknown, R = Record<string, unknown>>(
  host: BatchHost,
  table: string,
  options: LoaderOptions = {},
): DataLoader<K, R | undefined, string> {
  const { cache, ...select } = options;
  const plan = planSelect(host, table, select); // a bad name fails here, not at the first load
  return new DataLoader<K, R | undefined, string>(
    async (ids) => {
      const { byKey } = await selectByKey(plan, ids);
      return ids.map((id) => byKey.get(keyOf(id, 'loader')) as R | undefined);
    },
    // Ids meet as their string form, so 5 and '5' (an int8 read back as text) share one entry.
    { cacheKeyFn: (id) => keyOf(id, 'loader'), cache: cache ?? true },
  );
}
