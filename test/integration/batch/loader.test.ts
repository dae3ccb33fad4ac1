import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_DIALECTS, openBatch } from '../../support/batch-harness.js';

for (const dialect of BATCH_DIALECTS) {
  describe(`loader on ${dialect}`, () => {
    it('loads the authors of many books with one extra query, missing ones as undefined', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const authors = await h.table('loader_authors', `id ${h.types.serial}, name ${h.types.text}`);
      const books = await h.table('loader_books', `id ${h.types.serial}, title ${h.types.text}, author_id ${h.types.int}`);
      const { rows: authorIds } = await h.db.batchInsert<{ id: number }>(
        authors,
        [{ name: 'Le Guin' }, { name: 'Borges' }, { name: 'Lem' }],
        {
          returning: 'id',
        },
      );
      const bookRows = Array.from({ length: 30 }, (_, i) => ({ title: `book ${i}`, author_id: i === 29 ? 424242 : authorIds[i % 3]!.id }));
      await h.db.batchInsert(books, bookRows);

      const { rows: list } = await h.db.query<{ title: string; author_id: number }>(`SELECT title, author_id FROM ${books} ORDER BY id`);
      const loader = h.db.loader<number, { name: string }>(authors, { columns: ['name'] });
      let queries = 0;
      h.db.on('checkout', () => queries++);
      const withAuthors = await Promise.all(list.map(async (b) => ({ title: b.title, author: (await loader.load(b.author_id))?.name })));
      assert.equal(queries, 1, 'thirty loads, one query');
      assert.deepEqual(
        withAuthors.map((b) => b.author),
        bookRows.map((_b, i) => (i === 29 ? undefined : ['Le Guin', 'Borges', 'Lem'][i % 3])),
      );
      // Cached for the loader's life: asking again sends nothing.
      assert.equal((await loader.load(authorIds[1]!.id))?.name, 'Borges');
      assert.equal(queries, 1);
    });
  });
}
