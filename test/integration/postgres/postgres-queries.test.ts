import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, type Database, sql } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { serverConnections } from '../../support/postgres.js';

describe('PostgreSQL: queries, sql tag, transactions', () => {
  let db: Database;
  const table = uniqueName('sw_q');
  const name = uniqueName('pgq');
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (!ready) return;
    db = createPool({ url: POSTGRES_URL, name, size: 3, maxOverflow: 2, env: {} });
    await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, label text NOT NULL UNIQUE, n int)`);
  });

  after(async () => {
    if (!ready) return;
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.close();
    assert.equal(await serverConnections(name), 0, 'no server connection left after close()');
  });

  it('runs text with $n placeholders and the sql tag, never splicing values', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const { rows } = await db.query('SELECT $1::int + $2::int AS sum', [2, 3]);
    assert.equal(rows[0]!.sum, 5);
    const hostile = "x'); DROP TABLE students; --";
    const tagged = sql`SELECT ${hostile}::text AS v, ${sql.identifier('n')} FROM (SELECT 1 AS n) s WHERE n IN (${sql.join([1, 2])})`;
    const compiled = tagged.compile(db.dialect);
    assert.doesNotMatch(compiled.text, /DROP/);
    assert.match(compiled.text, /\$1::text AS v, "n" FROM .* IN \(\$2, \$3\)/);
    const result = await db.query(tagged);
    assert.equal(result.rows[0]!.v, hostile);
  });

  it('carries application_name and the session timeouts from the config', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const { rows } = await db.query(
      "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt",
    );
    assert.deepEqual(rows[0], { app: `spillway:${name}`, st: '30s', lt: '5s' });
  });

  it('commits a transaction, and rolls back when the function throws, returning the connection both times', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    await db.transaction(async (tx) => {
      await tx.query(sql`INSERT INTO ${sql.identifier(table)} (label, n) VALUES (${'a'}, ${1})`);
      await tx.query(sql`INSERT INTO ${sql.identifier(table)} (label, n) VALUES (${'b'}, ${2})`);
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query(sql`INSERT INTO ${sql.identifier(table)} (label, n) VALUES (${'c'}, ${3})`);
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    const { rows } = await db.query(`SELECT label FROM ${table} ORDER BY label`);
    assert.deepEqual(
      rows.map((r) => r.label),
      ['a', 'b'],
    );
    assert.equal(db.status().checkedOut, 0);
  });

  it('runs the requested isolation level and nested savepoints', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const level = await db.transaction(
      async (tx) => {
        await tx
          .transaction(async (inner) => {
            await inner.query(sql`INSERT INTO ${sql.identifier(table)} (label) VALUES (${'inner'})`);
            throw new Error('undo inner only');
          })
          .catch(() => undefined);
        await tx.query(sql`INSERT INTO ${sql.identifier(table)} (label) VALUES (${'outer'})`);
        return (await tx.query('SHOW transaction_isolation')).rows[0]!.transaction_isolation;
      },
      { isolation: 'serializable' },
    );
    assert.equal(level, 'serializable');
    const { rows } = await db.query(`SELECT label FROM ${table} WHERE label IN ('inner', 'outer')`);
    assert.deepEqual(
      rows.map((r) => r.label),
      ['outer'],
    );
  });

  it('passes database errors through with the driver fields intact', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    await assert.rejects(
      db.query(sql`INSERT INTO ${sql.identifier(table)} (label) VALUES (${'a'})`),
      (error: Error & { code?: string; constraint?: string }) => {
        assert.equal(error.code, '23505');
        assert.match(error.constraint ?? '', /label/);
        return true;
      },
    );
    await assert.rejects(db.query('SELEC 1'), { code: '42601' });
    assert.equal(db.status().checkedOut, 0);
    assert.equal(db.stats().invalidated, 0, 'SQL errors do not discard connections');
  });

  it('maps statement and lock timeouts, and a call timeoutMs overrides the session value for that call only', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    await assert.rejects(db.query('SELECT pg_sleep(2)', [], { timeoutMs: 100 }), { code: 'STATEMENT_TIMEOUT' });
    const { rows } = await db.query("SELECT current_setting('statement_timeout') AS st");
    assert.equal(rows[0]!.st, '30s');
    const holder = await db.acquire();
    try {
      await holder.query('BEGIN');
      await holder.query(sql`SELECT * FROM ${sql.identifier(table)} WHERE label = ${'a'} FOR UPDATE`);
      const locker = createPool({ url: POSTGRES_URL, name: `${name}_lock`, size: 1, lockTimeoutMs: 100, env: {} });
      try {
        await assert.rejects(locker.query(sql`UPDATE ${sql.identifier(table)} SET n = 9 WHERE label = ${'a'}`), { code: 'LOCK_TIMEOUT' });
      } finally {
        await locker.close();
      }
    } finally {
      holder.release();
    }
  });

  it('acquire/release and await using return the connection; withConnection keeps one connection', async (t) => {
    if (!ready) return t.skip('postgres unreachable');
    const pids = await db.withConnection(async (conn) => {
      const a = (await conn.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const b = (await conn.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      return [a, b];
    });
    assert.equal(pids[0], pids[1]);
    {
      await using conn = await db.acquire({ timeoutMs: 1000 });
      await conn.query('SELECT 1');
      assert.equal(db.status().checkedOut, 1);
    }
    assert.equal(db.status().checkedOut, 0);
  });
});
