import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_DIALECTS, openBatch, rejectsInvalid } from '../../support/batch-harness.js';

for (const dialect of BATCH_DIALECTS) {
  describe(`batch validation on ${dialect}`, () => {
    it('rejects bad shapes with BATCH_INVALID before anything is written', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_val', `id ${h.types.serial}, name ${h.types.text}, n ${h.types.int}`);
      const db = h.db;
      const good = { name: 'x', n: 1 };
      const bad: [string, () => Promise<unknown>][] = [
        ['table with SQL', () => db.batchInsert(`${table}; DROP TABLE ${table}`, [good])],
        ['three-part table', () => db.batchInsert(`a.b.${table}`, [good])],
        ['quoted table', () => db.batchInsert(`"${table}"`, [good])],
        ['non-string table', () => db.batchInsert(42 as unknown as string, [good])],
        ['column with SQL', () => db.batchInsert(table, [{ 'name) VALUES (1); --': 'x' }])],
        ['column starting with a digit', () => db.batchInsert(table, [{ '1name': 'x' }])],
        ['rows with differing columns', () => db.batchInsert(table, [good, { name: 'y', m: 2 }])],
        ['rows with an extra column', () => db.batchInsert(table, [good, { ...good, extra: 1 }])],
        ['a row that is not a plain object', () => db.batchInsert(table, [good, ['x', 1] as unknown as Record<string, unknown>])],
        ['an undefined value', () => db.batchInsert(table, [good, { name: 'y', n: undefined }])],
        ['a row with no columns', () => db.batchInsert(table, [{}])],
        ['rows not an array', () => db.batchInsert(table, good as unknown as Record<string, unknown>[])],
        ['unknown option', () => db.batchInsert(table, [good], { chunksize: 2 } as never)],
        ['zero chunkSize', () => db.batchInsert(table, [good], { chunkSize: 0 })],
        ['empty returning list', () => db.batchInsert(table, [good], { returning: [] })],
        ['bad returning name', () => db.batchInsert(table, [good], { returning: ['id; --'] })],
        ['bad onConflict action', () => db.batchInsert(table, [good], { onConflict: { do: 'replace' } as never })],
        ['empty onConflict target', () => db.batchInsert(table, [good], { onConflict: { do: 'update', target: [] } })],
        [
          'onConflict update of a column not inserted',
          () => db.batchInsert(table, [good], { onConflict: { do: 'update', target: ['id'], update: ['other'] } }),
        ],
        ['select with a bad key', () => db.batchSelectByIds(table, [1], { key: 'id OR 1=1' })],
        ['select with empty columns', () => db.batchSelectByIds(table, [1], { columns: [] })],
        ['select with a null id', () => db.batchSelectByIds(table, [1, null])],
        ['select with an object id', () => db.batchSelectByIds(table, [{ id: 1 }])],
        ['update without key', () => db.batchUpdate(table, [{ id: 1, name: 'z' }], undefined as never)],
        ['update with key missing from rows', () => db.batchUpdate(table, [{ name: 'z' }], { key: 'id' })],
        ['update with nothing to set', () => db.batchUpdate(table, [{ id: 1 }], { key: 'id' })],
        [
          'update with a repeated key',
          () =>
            db.batchUpdate(
              table,
              [
                { id: 1, name: 'a' },
                { id: 1, name: 'b' },
              ],
              { key: 'id' },
            ),
        ],
        ['update with a null key', () => db.batchUpdate(table, [{ id: null, name: 'a' }], { key: 'id' })],
        ['loader with a bad table', async () => db.loader('users where 1=1')],
      ];
      for (const [what, call] of bad) {
        await t.test(what, () => rejectsInvalid(call()));
      }
      assert.equal(await h.count(table), 0, 'nothing was written');
    });

    it('treats empty rows and ids as a no-op without a round trip', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_empty', `id ${h.types.serial}, name ${h.types.text}`);
      let checkouts = 0;
      h.db.on('checkout', () => checkouts++);
      assert.deepEqual(await h.db.batchInsert(table, []), { rowCount: 0, rows: [], statements: 0 });
      assert.deepEqual(await h.db.batchSelectByIds(table, []), { rows: [], missing: [], statements: 0 });
      assert.deepEqual(await h.db.batchUpdate(table, [], { key: 'id' }), { rowCount: 0, statements: 0 });
      assert.equal(checkouts, 0);
    });
  });
}
