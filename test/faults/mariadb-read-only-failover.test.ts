// A failover as the application sees it: the writer it is connected to turns read-only (what Aurora
// and RDS do to the old writer), on a throwaway MariaDB (never the shared server). mysql2's pool
// discards a connection that got a read-only error (1290) instead of handing it out again; the first
// test holds for both mysql2/promise's pool and spillway/mysql's, in one run. Beyond mysql2, a burst of
// read-only errors makes spillway/mysql retire every connection (idle ones at once, a borrowed one at
// its release), so all reconnect through DNS to the new writer instead of failing one by one.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import mysqlPromise from 'mysql2/promise';
import { createPool as spillwayCreatePool } from '../../src/index.js';
import { createPool as spillwayPromisePool } from '../../src/mysql.js';
import { mariadbBinariesPresent, TempMariadb } from '../support/mariadb-server.js';
import { waitFor } from '../support/polling.js';

type Pool = mysqlPromise.Pool;

const CONTENDERS: [string, (config: mysqlPromise.PoolOptions) => Pool][] = [
  ['mysql2/promise createPool', (config) => mysqlPromise.createPool(config)],
  ['spillway/mysql createPool', (config) => spillwayPromisePool(config) as unknown as Pool],
];

let server: TempMariadb | undefined;
let admin: mysqlPromise.Connection | undefined;

before(async () => {
  if (!mariadbBinariesPresent()) return;
  server = await TempMariadb.start();
  // A plain application user: read_only binds it (root holds READ ONLY ADMIN and would write anyway).
  await server.admin([
    'CREATE DATABASE app',
    'CREATE TABLE app.events (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(40)) ENGINE=InnoDB',
    "CREATE USER 'app'@'%'",
    "GRANT ALL ON app.* TO 'app'@'%'",
  ]);
  admin = await mysqlPromise.createConnection({ socketPath: server.socket, user: 'root' });
});
after(async () => {
  await admin?.end();
  await server?.stop();
});

function present(t: TestContext): boolean {
  if (server !== undefined) return true;
  t.skip('the MariaDB server binaries (mariadbd) are not installed: no throwaway server');
  return false;
}

async function setReadOnly(on: boolean): Promise<void> {
  await admin?.query(`SET GLOBAL read_only = ${on ? 1 : 0}`);
}

async function openThreads(ids: readonly number[]): Promise<number[]> {
  const [rows] = (await (admin as mysqlPromise.Connection).query('SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?)', [
    ids,
  ])) as [{ ID: number }[], unknown];
  return rows.map((r) => Number(r.ID));
}

function makePool(make: (config: mysqlPromise.PoolOptions) => Pool, connectionLimit = 4): Pool {
  return make({ host: '127.0.0.1', port: server?.port, user: 'app', database: 'app', connectionLimit });
}

/** Open `count` connections at once and return them to the pool; their server thread ids. */
async function warm(pool: Pool, count: number): Promise<number[]> {
  const connections = await Promise.all(Array.from({ length: count }, () => pool.getConnection()));
  const ids = connections.map((c) => (c.connection as unknown as { threadId: number }).threadId);
  for (const connection of connections) connection.release();
  return ids;
}

for (const [label, make] of CONTENDERS) {
  describe(`${label}: the writer turns read-only`, () => {
    it('a connection that got a read-only error (1290) is discarded and never handed out again', async (t) => {
      if (!present(t)) return;
      const pool = makePool(make);
      try {
        await pool.query("INSERT INTO events (note) VALUES ('before')");
        await setReadOnly(true);
        const [[{ id }]] = (await pool.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
        await assert.rejects(pool.query("INSERT INTO events (note) VALUES ('during')"), (error: Error & Record<string, unknown>) => {
          assert.equal(error.errno, 1290);
          assert.equal(error.code, 'ER_OPTION_PREVENTS_STATEMENT');
          assert.equal(error.sqlState, 'HY000');
          return true;
        });
        const [[next]] = (await pool.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
        assert.notEqual(next?.id, id, 'the connection that failed is not the next one handed out');
        await waitFor(async () => (await openThreads([id])).length === 0, 'the read-only connection closed on the server');
      } finally {
        await setReadOnly(false);
        await pool.end();
      }
    });
  });
}

describe('spillway/mysql, beyond mysql2: a burst of read-only errors means the writer moved', () => {
  it('three read-only errors retire every connection: idle ones at once, a borrowed one at its release', async (t) => {
    if (!present(t)) return;
    // More idle connections than errors: the three failing statements alone would leave two behind.
    const pool = makePool(CONTENDERS[1]?.[1] as (config: mysqlPromise.PoolOptions) => Pool, 6);
    const invalidations: string[] = [];
    (pool as unknown as { spillway: { on(event: string, fn: (e: { reason: string }) => void): void } }).spillway.on('invalidate', (event) =>
      invalidations.push(event.reason),
    );
    try {
      const warmIds = await warm(pool, 6);
      const borrowed = await pool.getConnection();
      const borrowedId = (borrowed.connection as unknown as { threadId: number }).threadId;
      await setReadOnly(true);
      for (let i = 0; i < 3; i++) await assert.rejects(pool.query("INSERT INTO events (note) VALUES ('x')"), { errno: 1290 });
      assert.ok(invalidations.includes('writer-moved'), `invalidate events: ${invalidations.join(', ')}`);
      const idleIds = warmIds.filter((id) => id !== borrowedId);
      await waitFor(async () => (await openThreads(idleIds)).length === 0, 'every idle connection of the old writer closed');
      assert.deepEqual(await openThreads([borrowedId]), [borrowedId], 'the borrowed connection is left to its holder');
      await borrowed.query('SELECT 1');
      borrowed.release();
      await waitFor(async () => (await openThreads([borrowedId])).length === 0, 'the borrowed connection closed at its release');
      // The "new writer" takes writes; every connection from now on is a fresh one.
      await setReadOnly(false);
      await pool.query("INSERT INTO events (note) VALUES ('after')");
      const [[{ id }]] = (await pool.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
      assert.ok(!warmIds.includes(id), 'no connection from before the failover is handed out');
    } finally {
      await setReadOnly(false);
      await pool.end();
    }
  });
});

describe("Spillway's own createPool on MySQL: the same failover handling", () => {
  it('a connection that got a read-only error is discarded; a burst retires every connection, a lent one at its release', async (t) => {
    if (!present(t)) return;
    const db = spillwayCreatePool({ url: `mysql://app@127.0.0.1:${server?.port}/app`, size: 6, maxOverflow: 0, env: {} });
    try {
      const thread = async (): Promise<number> => Number((await db.query('SELECT CONNECTION_ID() AS id')).rows[0]?.id);
      const sessions = await Promise.all(Array.from({ length: 6 }, () => db.acquire()));
      const warmIds = await Promise.all(sessions.map(async (s) => Number((await s.query('SELECT CONNECTION_ID() AS id')).rows[0]?.id)));
      const [held, ...rest] = sessions;
      for (const session of rest) session.release();
      const heldId = warmIds[0] as number;
      await setReadOnly(true);
      // Five idle connections, three read-only errors: the statements alone would leave two behind.
      await assert.rejects(db.query("INSERT INTO events (note) VALUES ('x')"), { errno: 1290, code: 'ER_OPTION_PREVENTS_STATEMENT' });
      for (let i = 0; i < 2; i++) await assert.rejects(db.query("INSERT INTO events (note) VALUES ('x')"), { errno: 1290 });
      const idleIds = warmIds.filter((id) => id !== heldId);
      await waitFor(async () => (await openThreads(idleIds)).length === 0, 'every idle connection of the old writer closed');
      assert.deepEqual(await openThreads([heldId]), [heldId], 'the lent connection is left to its holder');
      held?.release();
      await waitFor(async () => (await openThreads([heldId])).length === 0, 'the lent connection closed at its release');
      await setReadOnly(false);
      await db.query("INSERT INTO events (note) VALUES ('after')");
      assert.ok(!warmIds.includes(await thread()), 'no connection from before the failover is lent');
    } finally {
      await setReadOnly(false);
      await db.close({ graceMs: 0 });
    }
  });

  it('one read-only error discards just that connection (it is not lent again)', async (t) => {
    if (!present(t)) return;
    const db = spillwayCreatePool({ url: `mysql://app@127.0.0.1:${server?.port}/app`, size: 1, maxOverflow: 0, env: {} });
    try {
      const before = Number((await db.query('SELECT CONNECTION_ID() AS id')).rows[0]?.id);
      await setReadOnly(true);
      await assert.rejects(db.query("INSERT INTO events (note) VALUES ('x')"), { errno: 1290 });
      await setReadOnly(false);
      const afterId = Number((await db.query('SELECT CONNECTION_ID() AS id')).rows[0]?.id);
      assert.notEqual(afterId, before);
      await waitFor(async () => (await openThreads([before])).length === 0, 'the read-only connection closed');
    } finally {
      await setReadOnly(false);
      await db.close({ graceMs: 0 });
    }
  });
});
