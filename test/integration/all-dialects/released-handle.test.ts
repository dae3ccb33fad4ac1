import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import type { Database } from '../../../src/database.js';
import { SpillwayError } from '../../../src/errors.js';
import type { Session } from '../../../src/query/session.js';
import { uniqueName } from '../../support/databases.js';
import { type DialectFixture, dialectFixtures, dropTable } from '../../support/dialect-fixtures.js';

/** Asserts `attempt` fails LEASE_RELEASED. */
async function refused(attempt: () => Promise<unknown> | unknown, what: string): Promise<void> {
  await assert.rejects(
    async () => attempt(),
    (error: unknown) => error instanceof SpillwayError && error.code === 'LEASE_RELEASED',
    `${what} must fail LEASE_RELEASED`,
  );
}

async function withTable(fixture: DialectFixture, fn: (db: Database, table: string) => Promise<void>): Promise<void> {
  // One connection (and SQLite's one writer): whoever borrows next gets the very connection the released handle had.
  const db = createPool({ url: fixture.url(), size: 1, maxOverflow: 0, multiplex: false, env: {} });
  const table = uniqueName('released');
  try {
    await db.query(`CREATE TABLE ${table} (id ${fixture.serialKey}, v INTEGER NOT NULL)`);
    await fn(db, table);
  } finally {
    await dropTable(db, table);
    await db.close();
  }
}

const begin = (fixture: DialectFixture) => (fixture.dialect === 'mysql' ? 'START TRANSACTION' : 'BEGIN');

// Issue 16 item 1: a released handle must never reach a connection again. The write below, made
// through a stale handle, used to land inside the next borrower's transaction and vanish with its rollback.
for (const fixture of dialectFixtures()) {
  describe(`released handles on ${fixture.label}`, () => {
    after(() => fixture.teardown());

    it("a released acquire() handle refuses every use and never writes into the next borrower's transaction", async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        const a = await db.acquire();
        a.release();
        const b = await db.acquire();
        try {
          await b.query(begin(fixture));
          await refused(() => a.query(`INSERT INTO ${table} (v) VALUES (1)`), 'a query on a released handle');
          await refused(() => a.transaction(async () => undefined), 'a transaction on a released handle');
          assert.throws(
            () => a.connection,
            (error: unknown) => error instanceof SpillwayError && error.code === 'LEASE_RELEASED',
          );
          // B's transaction holds nothing of A's: its own view of the table is empty.
          const inside = await b.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
          assert.equal(Number(inside.rows[0]?.n), 0);
          await b.query('ROLLBACK');
        } finally {
          b.release();
        }
        const { rows } = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table}`);
        assert.equal(Number(rows[0]?.n), 0);
        assert.equal(a.released, true);
        assert.throws(
          () => a.release(),
          (error: unknown) => error instanceof SpillwayError && error.code === 'RELEASED_TWICE',
        );
      });
    });

    it("withConnection's conn and transaction's tx refuse use once their callback has settled", async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        let conn: Session | undefined;
        await db.withConnection(async (c) => {
          conn = c;
          await c.query(`INSERT INTO ${table} (v) VALUES (1)`);
        });
        await refused(() => conn?.query(`INSERT INTO ${table} (v) VALUES (2)`), "withConnection's conn after its callback");

        let tx: Session | undefined;
        await db.transaction(async (t2) => {
          tx = t2;
          await t2.query(`INSERT INTO ${table} (v) VALUES (3)`);
        });
        await refused(() => tx?.query(`INSERT INTO ${table} (v) VALUES (4)`), "transaction's tx after commit");

        let failedTx: Session | undefined;
        await assert.rejects(
          db.transaction(async (t3) => {
            failedTx = t3;
            throw new Error('roll back');
          }),
          /roll back/,
        );
        await refused(() => failedTx?.query(`INSERT INTO ${table} (v) VALUES (5)`), "transaction's tx after rollback");

        const { rows } = await db.query<{ v: number }>(`SELECT v FROM ${table} ORDER BY v`);
        assert.deepEqual(
          rows.map((r) => Number(r.v)),
          [1, 3],
        );
      });
    });

    it('a tx kept past its callback inside a session that lives on cannot write outside the transaction it was given for', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        const session = await db.acquire();
        try {
          let tx: Session | undefined;
          let savepoint: Session | undefined;
          await session.transaction(async (t2) => {
            tx = t2;
            await t2.transaction(async (inner) => {
              savepoint = inner;
              await inner.query(`INSERT INTO ${table} (v) VALUES (1)`);
            });
            // The savepoint's handle ended with its callback; the transaction's own handle still works.
            await refused(() => savepoint?.query(`INSERT INTO ${table} (v) VALUES (2)`), "a savepoint's handle after its callback");
            await t2.query(`INSERT INTO ${table} (v) VALUES (3)`);
          });
          await refused(() => tx?.query(`INSERT INTO ${table} (v) VALUES (4)`), "the transaction's handle after commit");
          // The session itself is still borrowed and usable.
          const { rows } = await session.query<{ v: number }>(`SELECT v FROM ${table} ORDER BY v`);
          assert.deepEqual(
            rows.map((r) => Number(r.v)),
            [1, 3],
          );
        } finally {
          session.release();
        }
      });
    });

    it('a loader or batch call bound to a finished transaction is refused', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        let tx: Session | undefined;
        await db.transaction(async (t2) => {
          tx = t2;
          await t2.query(`INSERT INTO ${table} (v) VALUES (7)`);
        });
        const loader = db.loader(table, { tx });
        await refused(() => loader.load(1), 'a loader bound to an ended transaction');
        await refused(() => db.batchInsert(table, [{ v: 8 }], { tx }), 'a batch insert bound to an ended transaction');
        const { rows } = await db.query<{ v: number }>(`SELECT v FROM ${table}`);
        assert.deepEqual(
          rows.map((r) => Number(r.v)),
          [7],
        );
      });
    });

    it('a statement still in flight at release keeps the connection until it is answered', async (t) => {
      if (!(await fixture.ready(t))) return;
      await withTable(fixture, async (db, table) => {
        const a = await db.acquire();
        const order: string[] = [];
        const pending = a.query(`INSERT INTO ${table} (v) VALUES (1)`).then(() => order.push('a answered'));
        a.release();
        const b = await db.acquire();
        order.push('b lent');
        b.release();
        await pending;
        // The next borrower got the connection only after A's statement was answered.
        assert.deepEqual(order, ['a answered', 'b lent']);
      });
    });
  });
}
