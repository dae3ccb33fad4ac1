import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Database, SpillwayError, sql } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { backendPids, InFlightCounter } from '../../support/postgres-activity.js';

describe('PostgreSQL multiplexing: errors stay per statement, nothing is sent twice', () => {
  let db: Database;
  const name = uniqueName('mux_err');
  const table = uniqueName('sw_mux');
  const counter = new InFlightCounter();
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    // One connection, so every statement below shares it.
    db = createPool({ url: POSTGRES_URL, name, size: 1, maxOverflow: 0, statementTimeoutMs: 300, multiplex: true, env: {} });
    db.on('checkout', counter.onCheckout).on('checkin', counter.onCheckin);
    await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, label text)`);
  });

  after(async () => {
    if (!ready) return;
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.close();
    assert.deepEqual(await backendPids(name), [], 'no server connection left after close()');
  });

  it('fails only the statement whose SQL fails; the others pipelined around it succeed', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    assert.ok(db.multiplexer, 'multiplexing is on');
    const calls = Array.from({ length: 30 }, (_, i) => {
      if (i % 3 === 1) return db.query('SELECT 1/0 AS boom');
      if (i % 3 === 2) return db.query(sql`SELECT * FROM ${sql.identifier(`${table}_missing`)}`);
      return db.query('SELECT $1::int AS i', [i]);
    });
    const settled = await Promise.allSettled(calls);
    settled.forEach((result, i) => {
      if (i % 3 === 0) {
        assert.equal(result.status, 'fulfilled', `statement ${i}`);
        assert.deepEqual((result as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows, [{ i }]);
      } else {
        assert.equal(result.status, 'rejected', `statement ${i}`);
        const error = (result as PromiseRejectedResult).reason as { code?: string };
        // SQL errors pass through with pg's own fields: 22012 division_by_zero, 42P01 undefined_table.
        assert.equal(error.code, i % 3 === 1 ? '22012' : '42P01');
        assert.ok(!(error instanceof SpillwayError));
      }
    });
    assert.ok(counter.maxPerConnection > 1, `statements shared the connection (max ${counter.maxPerConnection} in flight)`);
    assert.equal(db.status().total, 1, 'the SQL errors discarded no connection');
  });

  it('fails a statement past the server statement_timeout with STATEMENT_TIMEOUT, and only that one', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const slow = db.query('SELECT pg_sleep(2)');
    const fast = Array.from({ length: 5 }, (_, i) => db.query('SELECT $1::int AS i', [i]));
    await assert.rejects(slow, (error: SpillwayError) => error.code === 'STATEMENT_TIMEOUT');
    assert.deepEqual(
      (await Promise.all(fast)).map((r) => r.rows[0]),
      [0, 1, 2, 3, 4].map((i) => ({ i })),
    );
  });

  it('sends no statement twice: every acknowledged insert is there exactly once', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const ids = Array.from({ length: 200 }, (_, i) => i + 1);
    // Every fifth id is inserted twice: the second insert must fail on the primary key and change nothing.
    const calls = ids.flatMap((id) => {
      const insert = () => db.query(sql`INSERT INTO ${sql.identifier(table)} (id, label) VALUES (${id}, ${`row ${id}`})`);
      return id % 5 === 0 ? [insert(), insert()] : [insert()];
    });
    const settled = await Promise.allSettled(calls);
    const acknowledged = settled.filter((r) => r.status === 'fulfilled').length;
    const duplicates = settled.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === '23505').length;
    assert.equal(acknowledged, 200);
    assert.equal(duplicates, 40);
    const { rows } = await db.query<{ n: string; distinct_ids: string }>(
      `SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids FROM ${table}`,
    );
    assert.deepEqual(rows[0], { n: '200', distinct_ids: '200' });
  });
});
