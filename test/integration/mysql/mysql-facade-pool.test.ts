// mysql2/promise pool behaviours on spillway/mysql's createPool, against the real MariaDB.
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, type SpillwayMysqlPool } from '../../../src/mysql.js';
import { MYSQL_URL, requireServer, uniqueName } from '../../support/databases.js';
import { expectThreadsGone } from '../../support/mysql-activity.js';

const pools: SpillwayMysqlPool[] = [];
after(async () => {
  await Promise.all(pools.filter((p) => !p.spillway.pool.closed).map((p) => p.end()));
});

function makePool(config: Parameters<typeof createPool>[0] & object = {}): SpillwayMysqlPool {
  const pool = createPool({ uri: MYSQL_URL, name: uniqueName('myf'), ...config });
  pools.push(pool);
  return pool;
}

async function live(t: TestContext): Promise<boolean> {
  return requireServer(t, MYSQL_URL, 'mysql');
}

describe('spillway/mysql createPool: mysql2/promise pool behaviours on MariaDB', () => {
  it('query and execute resolve [rows, fields]; SQL errors pass through and keep the connection', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 1 });
    const [rows, fields] = await pool.query('SELECT 1 AS one, ? AS two', [2]);
    assert.deepEqual(rows, [{ one: 1, two: 2 }]);
    assert.ok(Array.isArray(fields));
    const [executed] = await pool.execute('SELECT ? AS n', [7]);
    assert.deepEqual(executed, [{ n: 7 }]);
    const [asArray] = await pool.query({ sql: 'SELECT 3 AS n', rowsAsArray: true });
    assert.deepEqual(asArray, [[3]]);
    await assert.rejects(pool.query('SELEC nope'), { code: 'ER_PARSE_ERROR' });
    assert.deepEqual((await pool.query('SELECT 4 AS n'))[0], [{ n: 4 }]);
    assert.equal(pool.spillway.stats().created, 1, 'the SQL error did not cost the connection');
    assert.equal(pool.spillway.status().checkedOut, 0);
  });

  it('getConnection hands out a PromisePoolConnection; release returns it; a second release does nothing (as in mysql2)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 2 });
    const connection = await pool.getConnection();
    const [[row]] = (await connection.query('SELECT CONNECTION_ID() AS id')) as [{ id: number }[], unknown];
    assert.equal(pool.spillway.status().checkedOut, 1);
    connection.release();
    assert.equal(pool.spillway.status().checkedIn, 1);
    connection.release();
    assert.equal(pool.spillway.status().checkedIn, 1, 'a second release neither throws nor returns it twice');
    const again = await pool.getConnection();
    const [[same]] = (await again.query('SELECT CONNECTION_ID() AS id')) as [{ id: number }[], unknown];
    assert.equal(same?.id, row?.id, 'the idle connection is reused');
    pool.releaseConnection(again);
    assert.equal(pool.spillway.status().checkedOut, 0);
  });

  it('a transaction on a pooled connection commits and rolls back', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 2 });
    const table = uniqueName('myf_tx');
    await pool.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
    try {
      const connection = await pool.getConnection();
      await connection.beginTransaction();
      await connection.query(`INSERT INTO ${table} VALUES (1)`);
      await connection.commit();
      await connection.beginTransaction();
      await connection.query(`INSERT INTO ${table} VALUES (2)`);
      await connection.rollback();
      connection.release();
      assert.deepEqual((await pool.query(`SELECT id FROM ${table}`))[0], [{ id: 1 }]);
    } finally {
      await pool.query(`DROP TABLE ${table}`);
    }
  });

  it('destroy() closes a borrowed connection and frees its slot', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 1 });
    const connection = await pool.getConnection();
    connection.destroy();
    assert.deepEqual((await pool.query('SELECT 1 AS n'))[0], [{ n: 1 }]);
    assert.equal(pool.spillway.stats().created, 2);
  });

  it('emits connection, acquire, enqueue and release; waiters are served in order without a timeout', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 1 });
    const seen: string[] = [];
    pool.on('connection', () => seen.push('connection'));
    pool.on('acquire', () => seen.push('acquire'));
    pool.on('enqueue', () => seen.push('enqueue'));
    pool.on('release', () => seen.push('release'));
    const held = await pool.getConnection();
    const order: number[] = [];
    const waiters = [1, 2].map((i) => pool.query('SELECT ? AS i', [i]).then(([rows]) => order.push((rows as { i: number }[])[0]?.i ?? 0)));
    await sleep(50);
    assert.equal(order.length, 0, 'no checkout timeout by default: they keep waiting');
    held.release();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2]);
    assert.deepEqual(seen.slice(0, 2), ['connection', 'acquire']);
    assert.equal(seen.filter((e) => e === 'enqueue').length, 2);
    // As mysql2: a connection handed straight to a queued caller emits neither release nor acquire.
    assert.equal(seen.filter((e) => e === 'acquire').length, 1);
    assert.equal(seen.filter((e) => e === 'release').length, 1);
  });

  it("waitForConnections: false and queueLimit fail a checkout at once with mysql2's messages and code POOL_TIMEOUT", async (t) => {
    if (!(await live(t))) return;
    const noWait = makePool({ connectionLimit: 1, waitForConnections: false });
    const held = await noWait.getConnection();
    await assert.rejects(noWait.query('SELECT 1'), { code: 'POOL_TIMEOUT', message: 'No connections available.' });
    held.release();
    const limited = makePool({ connectionLimit: 1, queueLimit: 1 });
    const busy = await limited.getConnection();
    const queued = limited.query('SELECT 1');
    await assert.rejects(limited.query('SELECT 1'), { code: 'POOL_TIMEOUT', message: 'Queue limit reached.' });
    busy.release();
    await queued;
  });

  it('end() closes every connection on the server; later checkouts fail POOL_CLOSED', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 3 });
    const threads: number[] = [];
    pool.on('connection', (connection: { threadId: number }) => threads.push(connection.threadId));
    await Promise.all(Array.from({ length: 30 }, (_, i) => pool.query('SELECT ? AS i', [i])));
    assert.ok(pool.spillway.stats().checkouts >= 30);
    await new Promise<void>((resolve, reject) =>
      (pool.end as (cb: (e?: Error | null) => void) => void)((e) => (e ? reject(e) : resolve())),
    );
    await assert.rejects(pool.query('SELECT 1'), { code: 'POOL_CLOSED', message: 'Pool is closed.' });
    await expectThreadsGone(threads);
  });

  it("resetOnRelease: Spillway's session time limits are set again after mysql2's reset", async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ connectionLimit: 1, resetOnRelease: true, statementTimeoutMs: 7000 });
    const connection = await pool.getConnection();
    await connection.query('SET @marker = 1, SESSION max_statement_time = 0');
    connection.release();
    const [[row]] = (await pool.query('SELECT @marker AS marker, @@SESSION.max_statement_time AS limitSeconds')) as unknown as [
      [{ marker: unknown; limitSeconds: number }],
    ];
    assert.equal(row?.marker, null, 'the session was reset');
    assert.equal(Number(row?.limitSeconds), 7, 'and the statement time limit set again');
  });
});
