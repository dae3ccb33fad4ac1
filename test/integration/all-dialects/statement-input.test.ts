import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import type { Database } from '../../../src/database.js';
import { SpillwayError } from '../../../src/errors.js';
import { sql } from '../../../src/query/sql.js';
import { uniqueName } from '../../support/databases.js';
import { dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

/** The most parameters one statement binds: PostgreSQL's and MySQL's protocols, better-sqlite3's SQLITE_MAX_VARIABLE_NUMBER. */
const LIMITS = { postgres: 65_535, mysql: 65_535, sqlite: 32_766 } as const;

function queryInvalid(error: unknown): SpillwayError {
  assert.ok(error instanceof SpillwayError, `expected QUERY_INVALID, got ${String(error)}`);
  assert.equal(error.code, 'QUERY_INVALID', error.message);
  assert.equal((error as SpillwayError & { outcome?: string }).outcome, 'not-sent');
  return error;
}

async function refused(promise: Promise<unknown>): Promise<SpillwayError> {
  return queryInvalid(
    await promise.then(
      () => assert.fail('the statement must be refused'),
      (e: unknown) => e,
    ),
  );
}

/** Connections opened and thrown away, across the pools of `db` (SQLite has a writer pool too). */
function connectionsTouched(db: Database): { created: number; invalidated: number } {
  const pools = db.writerPool === undefined ? [db.stats()] : [db.stats(), db.writerPool.stats()];
  return { created: pools.reduce((n, s) => n + s.created, 0), invalidated: pools.reduce((n, s) => n + s.invalidated, 0) };
}

// Statement input no database could take is refused before anything is sent, alike on every dialect.
for (const fixture of dialectFixtures()) {
  describe(`statement input on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it('refuses more parameters than the dialect binds, naming the limit, and keeps the connection', async (t) => {
      if (!(await fixture.ready(t))) return;
      const limit = LIMITS[fixture.dialect];
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, env: {} });
      try {
        const list = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
        // At the limit it runs: the limit is the database's, not a guess below it.
        const atLimit = await db.query<{ one: number }>(sql`SELECT 1 AS one WHERE 1 IN (${sql.join(list(limit))})`);
        assert.equal(Number(atLimit.rows[0]?.one), 1);
        const before = connectionsTouched(db);

        const tagged = await refused(db.query(sql`SELECT 1 AS one WHERE 1 IN (${sql.join(list(limit + 1))})`));
        assert.match(
          tagged.message,
          new RegExp(`${limit + 1} parameters exceeds the ${limit} .* binds in one statement; nothing was sent`),
        );
        const placeholders = list(limit + 1)
          .map((i) => fixture.placeholder(i))
          .join(', ');
        await refused(db.query(`SELECT 1 AS one WHERE 1 IN (${placeholders})`, list(limit + 1)));
        // readOnly: on SQLite the reader already open, not the writer.
        await db.withConnection(
          async (conn) => {
            await refused(conn.query(`SELECT 1 AS one WHERE 1 IN (${placeholders})`, list(limit + 1)));
          },
          { readOnly: true },
        );

        assert.deepEqual(connectionsTouched(db), before, 'the same connection serves on; none was opened or discarded');
        assert.equal(Number((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one), 1);
      } finally {
        await db.close();
      }
    });

    it('refuses a value the sql tag cannot bind alike everywhere, and binds sql.json as JSON text', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, env: {} });
      try {
        await db.query('SELECT 1');
        const before = connectionsTouched(db);
        const cases: [unknown, RegExp][] = [
          [{ a: 1 }, /is a plain object; use sql\.json\(value\)/],
          [[1, 2], /is an array; use sql\.join\(list\) .* or sql\.json\(value\)/],
          [new Map(), /is an object; use sql\.json\(value\)/],
          [() => 1, /is a function/],
          [Symbol('s'), /is a symbol/],
          [Number.NaN, /is NaN/],
          [Number.POSITIVE_INFINITY, /is Infinity/],
          [new Date(Number.NaN), /is an invalid Date/],
        ];
        for (const [value, reason] of cases) {
          const error = await refused(db.query(sql`SELECT ${1} AS one, ${value} AS v`));
          assert.match(error.message, new RegExp(`^sql value #2 \\(after "SELECT \\${fixture.placeholder(1)} AS one,"\\) `));
          assert.match(error.message, reason);
        }
        // Dialect text keeps its driver's meaning for objects, but never binds code.
        for (const value of [() => 1, Symbol('s')]) {
          const error = await refused(db.query(`SELECT ${fixture.placeholder(1)} AS v`, [value]));
          assert.match(error.message, /^query parameter #1 is a (function|symbol), which no database can bind/);
        }
        assert.deepEqual(connectionsTouched(db), before, 'nothing was sent, no connection touched');

        const json = await db.query<{ j: unknown }>(sql`SELECT ${sql.json({ a: [1, 'x'], b: null })} AS j`);
        assert.equal(json.rows[0]?.j, '{"a":[1,"x"],"b":null}');
      } finally {
        await db.close();
      }
    });

    it('a refused statement inside a transaction leaves the transaction usable (nothing reached the server)', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, env: {} });
      const table = uniqueName('input_tx');
      try {
        await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, doc TEXT, bin ${fixture.dialect === 'postgres' ? 'BYTEA' : 'BLOB'})`);
        const into = sql`INSERT INTO ${sql.identifier(table)} (id, doc, bin)`;
        await db.transaction(async (tx) => {
          await refused(tx.query(sql`${into} VALUES (${1}, ${{ not: 'json' }}, ${null})`));
          // On PostgreSQL a statement that failed on the server would have aborted the transaction.
          await tx.query(sql`${into} VALUES (${1}, ${sql.json({ ok: true })}, ${new Uint8Array([104, 105])})`);
        });
        const { rows } = await db.query<{ doc: string; bin: Buffer }>(`SELECT doc, bin FROM ${table}`);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]?.doc, '{"ok":true}');
        assert.deepEqual([...(rows[0]?.bin ?? [])], [104, 105], 'a Uint8Array binds as bytes');
      } finally {
        await dropTable(db, table);
        await db.close();
      }
    });
  });
}
