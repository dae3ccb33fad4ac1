import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isRefusedPreparedStatement,
  NAMED_STATEMENTS_PER_POOL,
  StatementNames,
} from '../../src/dialect/postgres/postgres-statement-names.js';

describe('StatementNames: which multiplexed statements are prepared', () => {
  it('names a text on its second use and keeps the name', () => {
    const names = new StatementNames();
    assert.equal(names.nameFor('SELECT $1'), undefined);
    const name = names.nameFor('SELECT $1');
    assert.equal(typeof name, 'string');
    assert.equal(names.nameFor('SELECT $1'), name);
    assert.notEqual(names.nameFor('SELECT $1 + 1') ?? names.nameFor('SELECT $1 + 1'), name);
  });

  it('names at most NAMED_STATEMENTS_PER_POOL texts; later ones stay unnamed', () => {
    const names = new StatementNames();
    for (let i = 0; i < NAMED_STATEMENTS_PER_POOL; i++) {
      names.nameFor(`SELECT ${i}, $1`);
      assert.ok(names.nameFor(`SELECT ${i}, $1`));
    }
    names.nameFor('SELECT late, $1');
    assert.equal(names.nameFor('SELECT late, $1'), undefined);
    assert.equal(names.size, NAMED_STATEMENTS_PER_POOL);
  });

  it('renames once for statements refused together', () => {
    const names = new StatementNames();
    names.nameFor('q');
    const first = names.nameFor('q') as string;
    const renamed = names.renameAfter('q', first);
    assert.notEqual(renamed, first);
    assert.equal(names.renameAfter('q', first), renamed, 'a second refusal of the old name reuses the new one');
    assert.equal(names.nameFor('q'), renamed);
  });

  it('retries only what the server refused before running it', () => {
    const error = (code: string, message: string) => Object.assign(new Error(message), { code });
    assert.equal(isRefusedPreparedStatement(error('26000', 'prepared statement "spillway_1" does not exist')), true);
    assert.equal(isRefusedPreparedStatement(error('0A000', 'cached plan must not change result type')), true);
    assert.equal(isRefusedPreparedStatement(error('0A000', 'FOR UPDATE is not allowed with GROUP BY clause')), false);
    assert.equal(isRefusedPreparedStatement(error('23505', 'duplicate key value')), false);
    assert.equal(isRefusedPreparedStatement(undefined), false);
  });
});
