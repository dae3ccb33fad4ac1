import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_DIALECTS, openBatch, rejectsInvalid } from '../../support/batch-harness.js';

for (const dialect of BATCH_DIALECTS) {
  describe(`generated keys and round trips on ${dialect}`, () => {
    it('returns generated keys in input order across chunks, and the given keys when rows carry them', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_keys', `id ${h.types.serial}, name ${h.types.text}`);
      const first = await h.db.batchInsert<{ id: number }>(table, [{ name: 'a' }, { name: 'b' }, { name: 'c' }], {
        returning: 'id',
        chunkSize: 2,
      });
      const given = await h.db.batchInsert<{ id: number }>(
        table,
        [
          { id: 100, name: 'x' },
          { id: 50, name: 'y' },
        ],
        { returning: ['id'] },
      );
      assert.deepEqual(
        given.rows.map((r) => Number(r.id)),
        [100, 50],
      );
      const ids = first.rows.map((r) => Number(r.id));
      assert.equal(new Set(ids).size, 3);
      const { rows } = await h.db.batchSelectByIds(table, ids, { columns: ['name'] });
      assert.deepEqual(rows, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
      if (h.db.dialect.batch.generatedKeys === 'insert-id') {
        // Without RETURNING only the AUTO_INCREMENT column can be known, and not after an upsert.
        await rejectsInvalid(h.db.batchInsert(table, [{ name: 'q' }], { returning: ['name'] }), /AUTO_INCREMENT/);
        await rejectsInvalid(h.db.batchInsert(table, [{ name: 'q' }], { returning: ['id'], onConflict: { do: 'nothing' } }), /onConflict/);
        assert.equal(await h.count(table), 5);
      }
    });

    it('reads ids in one statement where the dialect takes an array, else in chunks of chunkSize', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_trips', `id ${h.types.serial}, name ${h.types.text}`);
      const { rows } = await h.db.batchInsert<{ id: number }>(
        table,
        Array.from({ length: 20 }, (_, i) => ({ name: `n${i}` })),
        { returning: ['id'] },
      );
      const ids = rows.map((r) => r.id);
      const all = await h.db.batchSelectByIds(table, [...ids, ...ids]);
      assert.equal(all.rows.length, 40, 'an id asked twice gives its row twice');
      assert.equal(all.statements, 1);
      const chunked = await h.db.batchSelectByIds(table, ids, { chunkSize: 6 });
      assert.equal(chunked.statements, 4);
      assert.deepEqual(
        chunked.rows.map((r) => r.name),
        ids.map((_, i) => `n${i}`),
      );
    });
  });
}
