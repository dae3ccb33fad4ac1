import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BATCH_DIALECTS, openBatch } from '../../support/batch-harness.js';

// Text every dialect stores unchanged: well-formed UTF-16 (no lone surrogates) without NUL, which
// PostgreSQL text cannot hold.
const storable = (s: string): boolean =>
  !s.includes('\u0000') && !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const sqlLooking = fc.constantFrom(
  "'; DROP TABLE users; --",
  "' OR '1'='1",
  '$1',
  '?',
  '??',
  ':name',
  '\\',
  '\\0',
  '"quoted"',
  '`tick`',
  '/* c */',
  'NULL',
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).filter(storable) },
  { weight: 2, arbitrary: sqlLooking },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }).filter(storable), fc.integer({ min: 5_000, max: 60_000 }))
      .map(([s, n]) => s.repeat(n)),
  },
);
const int = fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null });
const row = fc.record({
  name: text,
  note: fc.option(text, { nil: null }),
  n: int,
});
const NUM_RUNS = 15;

for (const dialect of BATCH_DIALECTS) {
  describe(`batch round trip on ${dialect}`, () => {
    it('returns exactly the rows written, in the order of the ids asked, with the missing ids', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table(
        'batch_rt',
        `id ${h.types.serial}, name ${h.types.text} NOT NULL, note ${h.types.text}, n ${h.types.int}`,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(row, { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 8 }),
          fc.infiniteStream(fc.nat()),
          async (rows, chunkSize, rnd) => {
            const inserted = await h.db.batchInsert<{ id: number }>(table, rows, { returning: ['id'], chunkSize });
            assert.equal(inserted.rows.length, rows.length);
            assert.equal(inserted.statements, Math.ceil(rows.length / chunkSize));
            const ids = inserted.rows.map((r) => Number(r.id));
            // Ask in a shuffled order, with ids that do not exist mixed in.
            const absent = [-1, Math.max(...ids) + 1000];
            const asked = [...ids, ...absent]
              .map((id) => ({ id, sortKey: rnd.next().value }))
              .sort((a, b) => a.sortKey - b.sortKey)
              .map((a) => a.id);
            const byId = new Map(ids.map((id, i) => [id, rows[i]!]));
            const { rows: found, missing } = await h.db.batchSelectByIds(table, asked, { columns: ['id', 'name', 'note', 'n'] });
            assert.deepEqual(
              missing,
              asked.filter((id) => absent.includes(id)),
            );
            assert.deepEqual(
              found.map((r) => ({ ...r, id: Number(r.id) })),
              asked.filter((id) => byId.has(id)).map((id) => ({ id, ...byId.get(id)! })),
            );
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });

    it('selects by text keys, whatever their characters', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table('batch_rt_key', `code ${h.types.textKey}, v ${h.types.int}`);
      const code = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter(storable), sqlLooking);
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(code, { minLength: 1, maxLength: 25 }), async (codes) => {
          await h.db.query(`DELETE FROM ${table}`);
          const rows = codes.map((c, i) => ({ code: c, v: i % 3 === 0 ? null : i }));
          await h.db.batchInsert(table, rows, { chunkSize: 7 });
          const asked = [...codes].reverse();
          const { rows: found, missing } = await h.db.batchSelectByIds(table, asked, { key: 'code', columns: ['v'] });
          assert.deepEqual(missing, []);
          assert.deepEqual(
            found,
            asked.map((c) => ({ v: rows.find((r) => r.code === c)!.v })),
          );
        }),
        { numRuns: NUM_RUNS },
      );
    });
  });
}

for (const dialect of BATCH_DIALECTS) {
  describe(`large batch round trip on ${dialect}`, () => {
    it('keeps every value of a large batch (the per-column array form where the dialect has one)', async (t) => {
      const h = await openBatch(t, dialect);
      if (h === undefined) return;
      const table = await h.table(
        'batch_rt_big',
        `id ${h.types.serial}, name ${h.types.text} NOT NULL, note ${h.types.text}, n ${h.types.int}`,
      );
      // Values that an array literal must escape: braces, commas, quotes, backslashes, 'NULL', blanks.
      const awkward = ['{a,b}', 'x,y', '"q"', 'back\\slash', 'NULL', '', ' ', '\\"{}', 'ünï 🦆'];
      // Short texts here: the property above covers large ones, and this stays fast.
      const small = fc.record({
        name: fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }).filter(storable), sqlLooking),
        note: fc.constant(null),
        n: int,
      });
      const rows = fc
        .sample(small, { numRuns: 2500, seed: 7 })
        .map((r, i) =>
          i % 5 === 0 ? { ...r, name: awkward[i % awkward.length]!, note: i % 2 ? awkward[(i + 3) % awkward.length]! : null } : r,
        );
      const inserted = await h.db.batchInsert<{ id: number }>(table, rows, { returning: ['id'] });
      const { rows: found, missing } = await h.db.batchSelectByIds(
        table,
        inserted.rows.map((r) => r.id),
        { columns: ['name', 'note', 'n'] },
      );
      assert.deepEqual(missing, []);
      assert.deepEqual(
        found,
        rows.map((r) => ({ ...r })),
      );
    });
  });
}
