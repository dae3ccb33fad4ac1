import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Database } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { backendPids } from '../../support/postgres-activity.js';

/** The prepared statements of the pool's one connection, as the server sees them. */
async function preparedOnServer(db: Database): Promise<{ name: string; statement: string }[]> {
  return db.withConnection(
    async (c) =>
      (await c.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements ORDER BY name')).rows,
  );
}

describe('PostgreSQL multiplexing: repeated statements are prepared once per connection', () => {
  let db: Database;
  const name = uniqueName('mux_named');
  const table = uniqueName('sw_named');
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    // One connection, so the prepared statements checked below are the ones every call used.
    db = createPool({ url: POSTGRES_URL, name, size: 1, maxOverflow: 0, multiplex: true, env: {} });
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
    await db.query(`INSERT INTO ${table} VALUES (1, 'one'), (2, 'two')`);
  });

  after(async () => {
    if (!ready) return;
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.close();
    assert.deepEqual(await backendPids(name), [], 'no server connection left after close()');
  });

  it('names a parameterised statement on its second use; one-offs and parameterless statements stay unnamed', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const text = `SELECT label FROM ${table} WHERE id = $1`;
    assert.deepEqual((await db.query(text, [1])).rows, [{ label: 'one' }]);
    assert.deepEqual(await preparedOnServer(db), [], 'the first use is not prepared');
    const results = await Promise.all([1, 2, 1, 2, 1].map((id) => db.query(text, [id])));
    assert.deepEqual(
      results.map((r) => r.rows[0]),
      ['one', 'two', 'one', 'two', 'one'].map((label) => ({ label })),
    );
    await db.query(`SELECT label FROM ${table} WHERE id = $1 AND label <> 'x'`, [1]);
    await db.query('SELECT 1');
    await db.query('SELECT 1');
    // The row mode is the caller's, not the prepared statement's.
    assert.deepEqual((await db.query(text, [2], { rowMode: 'array' })).rows, [['two']]);
    assert.deepEqual((await db.query(text, [2])).rows, [{ label: 'two' }]);
    const prepared = await preparedOnServer(db);
    assert.equal(prepared.length, 1, `one statement prepared, got ${JSON.stringify(prepared)}`);
    assert.equal(prepared[0]?.statement, text);
  });

  it('prepares afresh when a schema change makes the plan stale, without failing the call', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const text = `SELECT * FROM ${table} WHERE id = $1`;
    await db.query(text, [1]);
    await db.query(text, [1]);
    assert.ok(
      (await preparedOnServer(db)).some((p) => p.statement === text),
      'prepared before the change',
    );
    await db.query(`ALTER TABLE ${table} ADD COLUMN extra int DEFAULT 7`);
    // Unhandled, PostgreSQL answers 0A000 "cached plan must not change result type".
    const results = await Promise.all([1, 2].map((id) => db.query(text, [id])));
    assert.deepEqual(
      results.map((r) => r.rows[0]),
      [
        { id: 1, label: 'one', extra: 7 },
        { id: 2, label: 'two', extra: 7 },
      ],
    );
    assert.deepEqual((await db.query(text, [2])).rows, [{ id: 2, label: 'two', extra: 7 }]);
    await db.query(`ALTER TABLE ${table} DROP COLUMN extra`);
  });

  it('survives a DISCARD ALL on the session: the forgotten statement is prepared again', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const text = `SELECT id FROM ${table} WHERE label = $1`;
    await db.query(text, ['one']);
    await db.query(text, ['one']);
    await db.withConnection((c) => c.query('DISCARD ALL'));
    assert.deepEqual(await preparedOnServer(db), [], 'the session forgot every prepared statement');
    const results = await Promise.all(['one', 'two', 'one'].map((label) => db.query(text, [label])));
    assert.deepEqual(
      results.map((r) => r.rows[0]),
      [{ id: 1 }, { id: 2 }, { id: 1 }],
    );
  });

  it('a named statement that cannot be prepared fails every call with the SQL error, not a missing-statement error', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const text = `SELECT nope FROM ${table} WHERE id = $1`;
    await assert.rejects(db.query(text, [1]), { code: '42703' });
    // Pipelined together: the first carries the failing Parse, the rest only bind to its name.
    const settled = await Promise.allSettled([1, 2, 3, 4].map((id) => db.query(text, [id])));
    for (const result of settled) {
      assert.equal(result.status, 'rejected');
      assert.equal(((result as PromiseRejectedResult).reason as { code?: string }).code, '42703');
    }
    assert.equal(db.status().total, 1, 'SQL errors discarded no connection');
  });
});

describe('PostgreSQL multiplexing with multiplex: false prepares nothing', () => {
  it('sends every statement unnamed, as pg.Pool does', async (t) => {
    if (!(await requireServer(t as never, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('mux_named_off'), size: 1, maxOverflow: 0, multiplex: false, env: {} });
    try {
      for (let i = 0; i < 3; i++) await db.query('SELECT $1::int AS i', [i]);
      assert.deepEqual(await preparedOnServer(db), []);
    } finally {
      await db.close();
    }
  });
});
