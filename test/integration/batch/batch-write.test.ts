import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_DIALECTS, openBatch } from '../../support/batch-harness.js';

for (const dialect of BATCH_DIALECTS) {
  describe(`batch writes on ${dialect}`, () => {
    it('updates many rows with one statement per chunk, NULLs included, unknown keys ignored', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_upd', `id ${h.types.serial}, name ${h.types.text}, n ${h.types.int}`);
      const { rows: ids } = await h.db.batchInsert<{ id: number }>(
        table,
        Array.from({ length: 10 }, (_, i) => ({ name: `row ${i}`, n: i })),
        { returning: ['id'] },
      );
      const updates = ids.map(({ id }, i) => ({ id, name: i % 2 === 0 ? `even ${i} ' OR 1=1` : null, n: i * 10 }));
      const result = await h.db.batchUpdate(table, [...updates, { id: 999_999, name: 'ghost', n: 0 }], { key: 'id', chunkSize: 4 });
      assert.equal(result.statements, 3);
      assert.equal(result.rowCount, 10);
      const { rows } = await h.db.batchSelectByIds(
        table,
        ids.map((r) => r.id),
      );
      assert.deepEqual(
        rows.map((r) => ({ ...r, id: Number(r.id) })),
        updates.map((u) => ({ ...u, id: Number(u.id) })),
      );
    });

    it('updates by a composite key', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table(
        'batch_upd2',
        `a ${h.types.int} NOT NULL, b ${h.types.int} NOT NULL, v ${h.types.text}, PRIMARY KEY (a, b)`,
      );
      await h.db.batchInsert(table, [
        { a: 1, b: 1, v: 'x' },
        { a: 1, b: 2, v: 'x' },
        { a: 2, b: 1, v: 'x' },
      ]);
      await h.db.batchUpdate(
        table,
        [
          { a: 1, b: 2, v: 'y' },
          { a: 2, b: 1, v: 'z' },
        ],
        { key: ['a', 'b'] },
      );
      const { rows } = await h.db.query(`SELECT a, b, v FROM ${table} ORDER BY a, b`);
      assert.deepEqual(
        rows.map((r) => `${r.a}${r.b}${r.v}`),
        ['11x', '12y', '21z'],
      );
    });

    it('upserts: on conflict do nothing, or update the listed columns', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_ups', `email VARCHAR(100) PRIMARY KEY, name ${h.types.text}, visits ${h.types.int}`);
      await h.db.batchInsert(table, [
        { email: 'a@x', name: 'A', visits: 1 },
        { email: 'b@x', name: 'B', visits: 1 },
      ]);
      await h.db.batchInsert(
        table,
        [
          { email: 'a@x', name: 'A2', visits: 5 },
          { email: 'c@x', name: 'C', visits: 1 },
        ],
        { onConflict: { do: 'nothing', target: ['email'] } },
      );
      await h.db.batchInsert(
        table,
        [
          { email: 'b@x', name: 'B2', visits: 7 },
          { email: 'd@x', name: 'D', visits: 1 },
        ],
        { onConflict: { do: 'update', target: ['email'], update: ['visits'] } },
      );
      const { rows } = await h.db.query(`SELECT email, name, visits FROM ${table} ORDER BY email`);
      assert.deepEqual(
        rows.map((r) => `${r.email} ${r.name} ${r.visits}`),
        ['a@x A 1', 'b@x B 7', 'c@x C 1', 'd@x D 1'],
      );
    });

    it('splits at the bind-parameter limit without a chunkSize', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const limit = h.db.dialect.batch.maxBindParameters;
      const width = 100;
      const columns = Array.from({ length: width }, (_, i) => `c${i}`);
      const table = await h.table('batch_wide', `${columns.map((c) => `${c} ${h.types.int}`).join(', ')}`);
      const count = Math.floor(limit / width) + 3; // one full statement and a few rows more
      const rows = Array.from({ length: count }, (_, r) => Object.fromEntries(columns.map((c, i) => [c, r * width + i])));
      const result = await h.db.batchInsert(table, rows);
      assert.equal(result.statements, 2);
      assert.equal(await h.count(table), count);
      const { rows: sums } = await h.db.query(`SELECT SUM(c0) AS s FROM ${table}`);
      assert.equal(Number(sums[0]?.s), (width * (count - 1) * count) / 2);
    });
  });
}

describe('batch inserts of array values on postgres', () => {
  it('falls back to VALUES when a value is itself an array, and keeps it whole', async (t) => {
    if (!BATCH_DIALECTS.includes('postgres')) return;
    const h = await openBatch(t, 'postgres');
    if (h === undefined) return;
    const table = await h.table('batch_arr', 'id SERIAL PRIMARY KEY, tags INTEGER[], label VARCHAR(10)');
    const rows = Array.from({ length: 1200 }, (_, i) => ({ tags: i % 4 === 0 ? null : [i, i + 1], label: `l${i}` }));
    const { rows: ids } = await h.db.batchInsert<{ id: number }>(table, rows, { returning: ['id'] });
    const { rows: found } = await h.db.batchSelectByIds(
      table,
      ids.map((r) => r.id),
      { columns: ['tags', 'label'] },
    );
    assert.deepEqual(found, rows);
    // A value too long for varchar(10) still fails in the per-column form (no silent truncation).
    const long = Array.from({ length: 1200 }, (_, i) => ({ tags: null, label: i === 1100 ? 'x'.repeat(11) : 'ok' }));
    await assert.rejects(h.db.batchInsert(table, long), /too long/);
    assert.equal(await h.count(table), 1200);
  });
});
