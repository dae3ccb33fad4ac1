import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_DIALECTS, openBatch } from '../../support/batch-harness.js';

for (const dialect of BATCH_DIALECTS) {
  describe(`batch transactions on ${dialect}`, () => {
    it('is all or nothing: a failing chunk undoes the chunks before it', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_atomic', `id ${h.types.int} PRIMARY KEY, name ${h.types.text} NOT NULL`);
      // The duplicate id sits in the third chunk of two rows.
      const rows = [1, 2, 3, 4, 5, 1].map((id) => ({ id, name: `n${id}` }));
      await assert.rejects(h.db.batchInsert(table, rows, { chunkSize: 2 }), (e: { code?: string }) => e.code !== 'BATCH_INVALID');
      assert.equal(await h.count(table), 0);
      await h.db.batchInsert(table, rows.slice(0, 5), { chunkSize: 2 });
      // A NOT NULL violation in the last chunk of an update undoes the first two chunks.
      const updates = [1, 2, 3, 4, 5].map((id) => ({ id, name: id === 5 ? null : `u${id}` }));
      await assert.rejects(
        h.db.batchUpdate(table, updates, { key: 'id', chunkSize: 2 }),
        (e: { code?: string }) => e.code !== 'BATCH_INVALID',
      );
      const { rows: after } = await h.db.query(`SELECT name FROM ${table} ORDER BY id`);
      assert.deepEqual(
        after.map((r) => r.name),
        ['n1', 'n2', 'n3', 'n4', 'n5'],
      );
    });

    it('joins the caller’s transaction: its rollback undoes the batch, and the batch sees its writes', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_tx', `id ${h.types.serial}, name ${h.types.text}`);
      let checkouts = 0;
      h.db.on('checkout', () => checkouts++);
      await assert.rejects(
        h.db.transaction(async (tx) => {
          const { rows } = await h.db.batchInsert<{ id: number }>(table, [{ name: 'a' }, { name: 'b' }, { name: 'c' }], {
            tx,
            returning: ['id'],
            chunkSize: 1,
          });
          const { rows: seen } = await h.db.batchSelectByIds(
            table,
            rows.map((r) => r.id),
            { tx, columns: ['name'] },
          );
          assert.deepEqual(seen, [{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
          await h.db.batchUpdate(table, [{ id: rows[0]!.id, name: 'z' }], { tx, key: 'id' });
          throw new Error('caller fails');
        }),
        /caller fails/,
      );
      assert.equal(checkouts, 1, 'every batch ran on the transaction’s connection');
      assert.equal(await h.count(table), 0);
    });

    it('a failing batch inside a transaction undoes only itself (savepoint)', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_sp', `id ${h.types.int} PRIMARY KEY, name ${h.types.text}`);
      await h.db.transaction(async (tx) => {
        await h.db.batchInsert(table, [{ id: 1, name: 'kept' }], { tx });
        await assert.rejects(
          h.db.batchInsert(
            table,
            [
              { id: 2, name: 'x' },
              { id: 1, name: 'dup' },
            ],
            { tx, chunkSize: 1 },
          ),
        );
        await h.db.batchInsert(table, [{ id: 3, name: 'after' }], { tx });
      });
      const { rows } = await h.db.query(`SELECT id, name FROM ${table} ORDER BY id`);
      assert.deepEqual(
        rows.map((r) => [Number(r.id), r.name]),
        [
          [1, 'kept'],
          [3, 'after'],
        ],
      );
    });
  });
}
