import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import { SpillwayError } from '../../../src/errors.js';
import { sql } from '../../../src/query/sql.js';
import { uniqueName } from '../../support/databases.js';
import { dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

// The pool's behaviour, once for every dialect: a difference between dialects fails here.
for (const fixture of dialectFixtures()) {
  describe(`pool on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it("runs statements with the dialect's placeholders and the sql tag", async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 2, env: {} });
      const table = uniqueName('pool_rows');
      try {
        await db.query(`CREATE TABLE ${table} (id ${fixture.serialKey}, name VARCHAR(50) NOT NULL)`);
        const inserted = await db.query(`INSERT INTO ${table} (name) VALUES (${fixture.placeholder(1)}), (${fixture.placeholder(2)})`, [
          'ada',
          'bob',
        ]);
        assert.equal(inserted.rowCount, 2);
        if (fixture.dialect !== 'postgres') {
          // MySQL and SQLite report the generated key (PostgreSQL uses RETURNING instead).
          const one = await db.query(`INSERT INTO ${table} (name) VALUES (${fixture.placeholder(1)})`, ['cy']);
          assert.equal(Number(one.insertId), 3);
          await db.query(`DELETE FROM ${table} WHERE name = 'cy'`);
        }
        const updated = await db.query(sql`UPDATE ${sql.identifier(table)} SET name = ${'eve'} WHERE name = ${'bob'}`);
        assert.equal(updated.rowCount, 1);
        const { rows, rowCount } = await db.query<{ name: string }>(sql`SELECT name FROM ${sql.identifier(table)} ORDER BY name`);
        assert.deepEqual(
          rows.map((r) => r.name),
          ['ada', 'eve'],
        );
        assert.equal(rowCount, 2);
        const asArrays = await db.query(sql`SELECT name FROM ${sql.identifier(table)} WHERE name = ${'ada'}`, { rowMode: 'array' });
        assert.deepEqual(asArrays.rows, [['ada']]);
      } finally {
        await dropTable(db, table);
        await db.close();
      }
    });

    it('serves more callers than connections in order, never opening more than size + maxOverflow', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 2, maxOverflow: 1, env: {} });
      let peak = 0;
      db.on('checkout', () => {
        peak = Math.max(peak, db.status().total);
      });
      try {
        const order: number[] = [];
        await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            db.withConnection(
              async (conn) => {
                await conn.query('SELECT 1');
                order.push(i);
              },
              { readOnly: true },
            ),
          ),
        );
        assert.equal(order.length, 12);
        assert.ok(peak <= 3, `peak ${peak} connections > size + maxOverflow`);
        assert.equal(db.status().checkedOut, 0);
        assert.ok(db.status().checkedIn <= 2, 'overflow connections are closed when returned to a full pool');
      } finally {
        await db.close();
      }
    });

    it('fails a checkout with POOL_TIMEOUT carrying the pool status when every connection is lent', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, checkoutTimeoutMs: 150, env: {} });
      try {
        const held = await db.acquire({ readOnly: true });
        // The pool's timers are unref'd and SQLite holds no socket: keep the process alive while we wait.
        const keepAlive = setInterval(() => undefined, 1000);
        const error = await db.acquire({ readOnly: true }).then(
          () => assert.fail('second checkout should time out'),
          (e: unknown) => e,
        );
        clearInterval(keepAlive);
        assert.ok(error instanceof SpillwayError);
        assert.equal(error.code, 'POOL_TIMEOUT');
        assert.match(error.message, /checkedOut=1/);
        assert.match(error.message, /size 1 overflow 0/);
        held.release();
        const again = await db.acquire({ readOnly: true });
        again.release();
      } finally {
        await db.close();
      }
    });

    it('discards a connection released with an error and refuses a second release', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, env: {} });
      try {
        const first = await db.acquire({ readOnly: true });
        await first.query('SELECT 1');
        first.release(new Error('the caller decided this connection is bad'));
        assert.throws(() => first.release(), { code: 'RELEASED_TWICE' });
        const second = await db.acquire({ readOnly: true });
        await second.query('SELECT 1');
        second.release();
        assert.equal(db.stats().invalidated, 1);
        assert.equal(db.stats().created, 2);
      } finally {
        await db.close();
      }
    });

    it('close waits for a borrowed connection, then refuses checkouts with POOL_CLOSED', async (t) => {
      if (!(await fixture.ready(t))) return;
      const db = createPool({ url: fixture.url(), size: 1, env: {} });
      const held = await db.acquire({ readOnly: true });
      const closing = db.close({ graceMs: 5000 });
      await assert.rejects(db.query('SELECT 1'), { code: 'POOL_CLOSED' });
      await held.query('SELECT 1'); // still usable until returned
      held.release();
      await closing;
      assert.equal(db.status().total, 0);
    });
  });
}
