import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPool, type Database } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';

/**
 * Spillway's clients read DataRow messages with their own parser (postgres-row-parser.ts). Every
 * value must come out as a plain pg.Client returns it: text in any script, NULLs, empty strings,
 * long fields, and the types pg parses from text.
 */
const VALUES_SQL = `
  SELECT g AS id,
         'name ' || g AS ascii,
         CASE g % 5 WHEN 0 THEN 'héllo wörld' WHEN 1 THEN '日本語テキスト' WHEN 2 THEN '🙂 emoji' WHEN 3 THEN '' ELSE NULL END AS mixed,
         repeat('a', 2000) || CASE WHEN g % 2 = 0 THEN 'é' ELSE '' END AS long_text,
         (g * 1.5)::numeric AS num, g::bigint * 1000000000 AS big, g % 2 = 0 AS flag,
         ('2026-11-23'::date + g) AS day, ARRAY[g, g + 1] AS pair, json_build_object('k', 'ü' || g) AS doc,
         decode('00ff' || lpad(to_hex(g), 4, '0'), 'hex') AS raw
  FROM generate_series(1, $1::int) g`;

describe('PostgreSQL: row values read by Spillway match pg', () => {
  let db: Database;
  let client: pg.Client;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    db = createPool({ url: POSTGRES_URL, name: uniqueName('rowval'), size: 2, env: {} });
    client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
  });

  after(async () => {
    if (!ready) return;
    await db.close();
    await client.end();
  });

  it('returns the same rows as pg.Client, multiplexed, exclusive and in array mode', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const expected = (await client.query(VALUES_SQL, [50])).rows;
    assert.equal(expected.length, 50);
    // Twice on the shared path: the second run goes through the prepared (named) statement.
    assert.deepEqual((await db.query(VALUES_SQL, [50])).rows, expected);
    assert.deepEqual((await db.query(VALUES_SQL, [50])).rows, expected);
    await db.withConnection(async (c) => assert.deepEqual((await c.query(VALUES_SQL, [50])).rows, expected));
    const arrays = (await client.query({ text: VALUES_SQL, values: [50], rowMode: 'array' })).rows;
    assert.deepEqual((await db.query(VALUES_SQL, [50], { rowMode: 'array' })).rows, arrays);
  });

  it('keeps text of every script intact across many rows arriving in many socket reads', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const { rows } = await db.query<{ s: string }>(
      `SELECT repeat(chr(65 + g % 26) || 'ß€😀', 1 + g % 50) AS s FROM generate_series(1, 5000) g`,
    );
    assert.equal(rows.length, 5000);
    rows.forEach(({ s }, i) => {
      const g = i + 1;
      assert.equal(s, `${String.fromCharCode(65 + (g % 26))}ß€😀`.repeat(1 + (g % 50)));
    });
  });
});
