import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openBatch } from '../../support/batch-harness.js';

const TRICKY = ['a\tb', 'line\nbreak', 'cr\rx', 'back\\slash', '\\N', '\\.', '', 'ünïcode 🎉', 'quote \' " ', ' lead', 'trail ', '\\x41'];

describe('PostgreSQL batchInsert streams large plain inserts as COPY', () => {
  it('round-trips values COPY must escape, with NULLs, numbers, booleans, dates, JSON and arrays', async (t) => {
    const h = await openBatch(t, 'postgres');
    if (h === undefined) return;
    const table = await h.table('batch_copy', 'id SERIAL PRIMARY KEY, t TEXT, n NUMERIC, b BOOLEAN, d TIMESTAMPTZ, j JSONB, a INT[]');
    const rows = Array.from({ length: 1500 }, (_, i) => ({
      t: i < TRICKY.length ? TRICKY[i]! : i % 5 === 0 ? null : `v${i}`,
      n: i % 3 === 0 ? 0.1 : i,
      b: i % 2 === 0,
      d: new Date(Date.UTC(2020, 0, 1, 0, 0, i)),
      j: { k: i, s: 'x\ty\\z' },
      a: [i, i + 1],
    }));
    // A statement-level trigger records the text of each statement that inserted.
    const log = await h.table('batch_copy_log', 'statement TEXT');
    await h.db.query(
      `CREATE FUNCTION ${log}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO ${log} VALUES (current_query()); RETURN NULL; END $$`,
    );
    try {
      await h.db.query(`CREATE TRIGGER ${log}_tr AFTER INSERT ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${log}_fn()`);
      const result = await h.db.batchInsert(table, rows);
      assert.deepEqual(result, { rowCount: 1500, rows: [], statements: 1 });
      const { rows: statements } = await h.db.query<{ statement: string }>(`SELECT statement FROM ${log}`);
      assert.deepEqual(
        statements.map((r) => r.statement),
        [`COPY "${table}" ("t", "n", "b", "d", "j", "a") FROM STDIN`],
      );
      const { rows: back } = await h.db.query(`SELECT t, n::text AS n, b, d, j, a FROM ${table} ORDER BY id`);
      assert.deepEqual(
        back.map((r) => ({ ...r, n: Number(r.n) })),
        rows,
      );
    } finally {
      await h.db.query(`DROP FUNCTION IF EXISTS ${log}_fn() CASCADE`);
    }
  });

  it('writes nothing when a row fails, and leaves the pool usable', async (t) => {
    const h = await openBatch(t, 'postgres');
    if (h === undefined) return;
    const table = await h.table('batch_copy_fail', 'id INT PRIMARY KEY, t TEXT');
    await assert.rejects(
      h.db.batchInsert(
        table,
        Array.from({ length: 3000 }, (_, i) => ({ id: i === 2500 ? 5 : i, t: 'x' })),
      ),
      (error: { code?: string }) => error.code === '23505',
    );
    assert.equal(await h.count(table), 0);
    // Inside the caller's transaction: only the batch is undone.
    await h.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} (id, t) VALUES (-1, 'kept')`);
      await assert.rejects(
        h.db.batchInsert(
          table,
          Array.from({ length: 1200 }, (_, i) => ({ id: i === 1100 ? -1 : i, t: 'x' })),
          { tx },
        ),
      );
    });
    assert.equal(await h.count(table), 1);
    const again = await h.db.batchInsert(
      table,
      Array.from({ length: 2000 }, (_, i) => ({ id: i, t: 'y' })),
      { chunkSize: 800 },
    );
    assert.equal(again.statements, 3);
    assert.equal(await h.count(table), 2001);
  });

  it('keeps a Buffer value on the parameter path, where it binds as binary', async (t) => {
    const h = await openBatch(t, 'postgres');
    if (h === undefined) return;
    const table = await h.table('batch_copy_bytes', 'id INT PRIMARY KEY, data BYTEA');
    const rows = Array.from({ length: 1200 }, (_, id) => ({ id, data: Buffer.from([id % 256, 0, 92, 9]) }));
    const result = await h.db.batchInsert(table, rows);
    assert.equal(result.rowCount, 1200);
    const { rows: back } = await h.db.query<{ data: Buffer }>(`SELECT data FROM ${table} ORDER BY id`);
    assert.deepEqual(
      back.map((r) => [...r.data]),
      rows.map((r) => [...r.data]),
    );
  });
});
