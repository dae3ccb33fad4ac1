import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postgresBatch } from '../../src/dialect/postgres/postgres-batch.js';
import { BatchInvalidError } from '../../src/errors.js';
import { checkIdentifier, checkTable } from '../../src/query/batch/identifiers.js';
import { chunk, keyOf, rowsPerStatement } from '../../src/query/batch/shape.js';

const quoting = { quoteIdentifier: (n: string) => `"${n}"` } as Parameters<typeof checkTable>[0];

describe('batch identifiers and chunking', () => {
  it('accepts plain identifiers and schema.table, quoting each part', () => {
    assert.equal(checkIdentifier('user_id2', 'column'), 'user_id2');
    assert.deepEqual(checkTable(quoting, 'app.users'), { schema: 'app', name: 'users', quoted: '"app"."users"' });
    assert.deepEqual(checkTable(quoting, '_t'), { schema: undefined, name: '_t', quoted: '"_t"' });
  });

  it('refuses anything else', () => {
    for (const name of ['', '1a', 'a-b', 'a b', 'a"b', 'naïve', 'a;', 'x'.repeat(64), '$1']) {
      assert.throws(() => checkIdentifier(name, 'column'), BatchInvalidError, name);
    }
    for (const table of ['a.b.c', '.a', 'a.', 'a..b']) assert.throws(() => checkTable(quoting, table), BatchInvalidError, table);
  });

  it('caps rows per statement at the bind limit, and at chunkSize when smaller', () => {
    assert.equal(rowsPerStatement({ maxBindParameters: 65_535 }, 3, undefined), 21_845);
    assert.equal(rowsPerStatement({ maxBindParameters: 32_766 }, 7, 100), 100);
    assert.equal(rowsPerStatement({ maxBindParameters: 32_766 }, 40_000, undefined), 1);
    assert.equal(rowsPerStatement({ maxBindParameters: 32_766, maxRowsPerStatement: 500 }, 4, undefined), 500);
    assert.equal(rowsPerStatement({ maxBindParameters: 32_766, maxRowsPerStatement: 500 }, 100, undefined), 327);
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  });

  it('matches ids across the JS types drivers return for one value', () => {
    assert.equal(keyOf(5, 'x'), keyOf('5', 'x'));
    assert.equal(keyOf(5n, 'x'), keyOf(5, 'x'));
    assert.equal(keyOf(Buffer.from([1, 255]), 'x'), 'x01ff');
    assert.throws(() => keyOf(null, 'x'), BatchInvalidError);
    assert.throws(() => keyOf(true, 'x'), BatchInvalidError);
  });

  it('renders PostgreSQL statements with parameters only', () => {
    const insert = postgresBatch.insertSql({
      table: '"t"',
      columns: ['"a"', '"b"'],
      rowCount: 2,
      conflict: { target: ['"a"'], update: ['"b"'] },
      returning: ['"id"'],
    });
    assert.equal(
      insert,
      'INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4) ON CONFLICT ("a") DO UPDATE SET "b" = excluded."b" RETURNING "id"',
    );
    const update = postgresBatch.updateSql({ table: '"t"', keys: ['"id"'], sets: ['"b"'], rowCount: 2, types: ['integer', 'text'] });
    assert.match(update, /FROM \(VALUES \(\$1::integer, \$2::text\), \(\$3::integer, \$4::text\)\) AS spillway_v \("id", "b"\)/);
  });
});
