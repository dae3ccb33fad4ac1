import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../src/index.js';
import { errorResponse } from '../../src/service/error-response.js';
import { uniqueName } from '../support/databases.js';
import { dialectFixtures } from '../support/dialect-fixtures.js';

/**
 * The reference service's answer to errors the real drivers raise (no mocks): data exceptions
 * (SQLSTATE class 22 on PostgreSQL and MariaDB, SQLite's datatype mismatch) and constraint
 * violations are the client's, with a generic message that names no table or constraint; a syntax
 * error is the server's (500, "internal error").
 */
const CASES = {
  postgres: {
    invalid: [
      ['SELECT $1::int AS v', ['2147483648']], // 22003 out of range
      ['SELECT $1::text AS v', ['a\u0000b']], // 22021 invalid byte sequence (NUL)
      ['SELECT $1::date AS v', ['2020-13-45']], // 22008
      ['SELECT 1 / $1::int AS v', [0]], // 22012 division by zero
      ['SELECT 1 OFFSET $1::bigint', ['99999999999999999999']], // 22003 for bigint
    ],
    notNull: (t: string) => `INSERT INTO ${t} (id, name, parent) VALUES (5, NULL, NULL)`,
  },
  mysql: {
    invalid: [
      ['INSERT INTO {t} (id, name, n) VALUES (10, ?, ?)', ['x', 2147483648]], // 1264 / 22003
      ['INSERT INTO {t} (id, name) VALUES (11, ?)', ['x'.repeat(40)]], // 1406 / 22001
      ['INSERT INTO {t} (id, name, d) VALUES (12, ?, ?)', ['x', '2020-13-45']], // 1292 / 22007
    ],
    notNull: (t: string) => `INSERT INTO ${t} (id, name, parent) VALUES (5, NULL, NULL)`,
  },
  sqlite: {
    invalid: [
      ['SELECT 1 LIMIT ?', [1e20]], // SQLITE_MISMATCH
      ['INSERT INTO {t} (id, name) VALUES (?, ?)', ['abc', 'x']], // SQLITE_MISMATCH on INTEGER PRIMARY KEY
    ],
    notNull: (t: string) => `INSERT INTO ${t} (id, name, parent) VALUES (5, NULL, NULL)`,
  },
} as const;

for (const fixture of dialectFixtures().filter((f) => !f.label.includes('pgbouncer'))) {
  describe(`service error responses from real ${fixture.label} errors`, () => {
    after(() => fixture.teardown());

    it('maps data exceptions to 400, constraint violations to 409/422, and names no table or constraint', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), env: {}, size: 1, maxOverflow: 0 });
      const table = uniqueName('svc_err').toLowerCase();
      const p = fixture.placeholder;
      t.after(async () => {
        await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
        await db.close();
      });
      await db.query(
        `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name VARCHAR(30) NOT NULL UNIQUE, n INTEGER, d DATE, parent INTEGER REFERENCES ${table} (id))`,
      );
      await db.query(`INSERT INTO ${table} (id, name) VALUES (1, 'taken')`);
      const failure = async (text: string, params: readonly unknown[] = []) => {
        const error = await db.query(text.replace('{t}', table), [...params]).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(error !== undefined, `${text} should fail`);
        return { error, response: errorResponse(error) };
      };
      const leaks = (body: { error: string }) => body.error.includes(table) || /constraint|_fkey|_key|ibfk/i.test(body.error);

      for (const [text, params] of CASES[fixture.dialect].invalid) {
        const { error, response } = await failure(text, params);
        assert.equal(response.status, 400, `${text}: ${(error as Error).message}`);
        assert.deepEqual(response.body, { error: 'a value is invalid or out of range for its column', code: 'INVALID_VALUE' });
        assert.equal(response.internal, false);
      }
      const checks: [string, unknown[], number, string][] = [
        [`INSERT INTO ${table} (id, name) VALUES (${p(1)}, ${p(2)})`, [2, 'taken'], 409, 'CONFLICT'],
        [`INSERT INTO ${table} (id, name, parent) VALUES (3, 'orphan', 999)`, [], 422, 'UNKNOWN_REFERENCE'],
        [CASES[fixture.dialect].notNull(table), [], 400, 'INVALID_VALUE'],
      ];
      for (const [text, params, status, code] of checks) {
        const { error, response } = await failure(text, params);
        assert.equal(response.status, status, `${text}: ${(error as Error).message}`);
        assert.equal(response.body.code, code);
        assert.ok(!leaks(response.body), `the message names no table or constraint: ${response.body.error}`);
      }

      const syntax = await failure('SELEC 1');
      assert.deepEqual(syntax.response, { status: 500, body: { error: 'internal error', code: 'INTERNAL_ERROR' }, internal: true });
    });
  });
}
