import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MYSQL_PREPARED_PER_CONNECTION } from '../../../src/dialect/mysql/mysql-dialect.js';
import type { Session } from '../../../src/query/session.js';
import { openBatch } from '../../support/batch-harness.js';

/** This session's count of a statement-protocol command (Com_stmt_prepare, Com_stmt_close). */
async function sessionCount(tx: Session, name: string): Promise<number> {
  const { rows } = await tx.query<{ Value: string }>(`SHOW SESSION STATUS LIKE '${name}'`);
  return Number(rows[0]?.Value);
}

describe('MySQL batchInsert sends server-side prepared statements', () => {
  it('keeps values out of the SQL text, so they round-trip even under NO_BACKSLASH_ESCAPES', async (t) => {
    const h = await openBatch(t, 'mysql');
    if (h === undefined) return;
    const table = await h.table('batch_nbe', `id ${h.types.serial}, v ${h.types.text}`);
    // Backslash-escaping a quote (what client-side substitution does) ends the literal in this
    // sql_mode, so these would break out of a string literal or fail to parse.
    const values = ["\\' , (SELECT 1)) -- ", '\\', "'", "\\'; DROP TABLE x; -- ", 'plain'];
    await h.db.transaction(async (tx) => {
      await tx.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
      const result = await h.db.batchInsert(
        table,
        values.map((v) => ({ v })),
        { tx, chunkSize: 2 },
      );
      assert.equal(result.rowCount, values.length);
      assert.equal(result.statements, 3);
      const { rows } = await tx.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY id`);
      assert.deepEqual(
        rows.map((r) => r.v),
        values,
      );
    });
  });

  it('reuses a prepared shape and keeps at most a few open per connection', async (t) => {
    const h = await openBatch(t, 'mysql');
    if (h === undefined) return;
    const table = await h.table('batch_prep', `id ${h.types.serial}, n ${h.types.int}`);
    const shapes = MYSQL_PREPARED_PER_CONNECTION + 4;
    await h.db.transaction(async (tx) => {
      const prepared0 = await sessionCount(tx, 'Com_stmt_prepare');
      const closed0 = await sessionCount(tx, 'Com_stmt_close');
      // One chunk of 1, 2, ... rows per call: each a new statement shape.
      for (let rows = 1; rows <= shapes; rows++) {
        await h.db.batchInsert(
          table,
          Array.from({ length: rows }, (_, n) => ({ n })),
          { tx },
        );
      }
      // The most recent shape again: no new prepare.
      await h.db.batchInsert(
        table,
        Array.from({ length: shapes }, (_, n) => ({ n })),
        { tx },
      );
      const prepared = (await sessionCount(tx, 'Com_stmt_prepare')) - prepared0;
      const closed = (await sessionCount(tx, 'Com_stmt_close')) - closed0;
      assert.equal(prepared, shapes);
      assert.equal(closed, shapes - MYSQL_PREPARED_PER_CONNECTION);
    });
    assert.equal(await h.count(table), (shapes * (shapes + 1)) / 2 + shapes);
  });
});
