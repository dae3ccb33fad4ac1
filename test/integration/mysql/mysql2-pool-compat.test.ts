// mysql2's pool behaviour (mysql2 3.24), written once and run against both mysql2's own pools and
// spillway/mysql's in the same run, on the real MariaDB: the promise API (mysql2/promise's createPool
// against spillway/mysql's) and the callback API (mysql2's createPool against spillway/mysql/callback's).
// What passes here holds for mysql2 itself, so it cannot encode a Spillway-only belief. No assertion
// depends on how long something took: waits poll the server's processlist with a generous bound.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import mysqlCallback from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { createPool as spillwayPromisePool } from '../../../src/mysql.js';
import { createPool as spillwayCallbackPool } from '../../../src/mysql-callback.js';
import { MYSQL_URL, requireServer, uniqueName } from '../../support/databases.js';
import { mysqlAdminQuery } from '../../support/mysql-activity.js';
import { fakeServer, waitFor } from '../../support/polling.js';
import { freeLoopbackPort } from '../../support/ports.js';

/** mysql2/promise's pool, with the `Promise` its typings leave out. */
type PromisePool = mysqlPromise.Pool & { Promise: PromiseConstructor };
type CallbackPool = mysqlCallback.Pool;
type Row = Record<string, unknown>;

const PROMISE_CONTENDERS: [string, (config: mysqlPromise.PoolOptions) => PromisePool][] = [
  ['mysql2/promise createPool', (config) => mysqlPromise.createPool(config) as PromisePool],
  ['spillway/mysql createPool', (config) => spillwayPromisePool(config) as unknown as PromisePool],
];
const CALLBACK_CONTENDERS: [string, (config: mysqlCallback.PoolOptions) => CallbackPool][] = [
  ['mysql2 createPool', (config) => mysqlCallback.createPool(config)],
  ['spillway/mysql/callback createPool', (config) => spillwayCallbackPool(config) as unknown as CallbackPool],
];

/** Which of these server threads are still open. */
async function openThreads(ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = (await mysqlAdminQuery('SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?)', [ids])) as { ID: number }[];
  return rows.map((r) => Number(r.ID));
}

async function live(t: TestContext): Promise<boolean> {
  return requireServer(t, MYSQL_URL, 'mysql');
}

/** The thread id of the connection a pool.query runs on. */
async function threadOf(pool: PromisePool): Promise<number> {
  const [rows] = (await pool.query('SELECT CONNECTION_ID() AS id')) as [Row[], unknown];
  return Number(rows[0]?.id);
}

for (const [label, makePoolOf] of PROMISE_CONTENDERS) {
  describe(`${label}: mysql2/promise pool behaviour`, () => {
    const pools: PromisePool[] = [];
    after(async () => {
      await Promise.race([Promise.all(pools.map((p) => p.end().catch(() => undefined))), sleep(5000)]);
    });

    function makePool(config: mysqlPromise.PoolOptions = {}): PromisePool {
      const pool = makePoolOf({ uri: MYSQL_URL, ...config });
      pools.push(pool);
      return pool;
    }

    it("query and execute resolve [rows, fields]; driver errors keep mysql2's code, errno, sqlState and sqlMessage", async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 2 });
      const [rows, fields] = (await pool.query('SELECT 1 AS one, ? AS two', [2])) as [Row[], { name: string }[]];
      assert.deepEqual(rows, [{ one: 1, two: 2 }]);
      assert.deepEqual(
        fields.map((f) => f.name),
        ['one', 'two'],
      );
      assert.deepEqual((await pool.execute('SELECT ? AS n', [7]))[0], [{ n: 7 }]);
      await assert.rejects(pool.query('SELEC nope'), (error: Error & Row) => {
        assert.equal(error.code, 'ER_PARSE_ERROR');
        assert.equal(error.errno, 1064);
        assert.equal(error.sqlState, '42000');
        assert.match(String(error.sqlMessage), /You have an error in your SQL syntax/);
        assert.match(error.message, /You have an error in your SQL syntax/);
        return true;
      });
      const missing = uniqueName('no_such_table');
      await assert.rejects(pool.execute(`SELECT * FROM ${missing}`), { code: 'ER_NO_SUCH_TABLE', errno: 1146, sqlState: '42S02' });
      assert.throws(() => pool.query('SELECT 1', (() => undefined) as never), {
        message: 'Callback function is not available with promise clients.',
      });
      assert.deepEqual((await pool.query('SELECT 4 AS n'))[0], [{ n: 4 }], 'SQL errors leave the pool working');
    });

    it("connect failures reach the caller as mysql2's own errors: ECONNREFUSED, and ETIMEDOUT from connectTimeout", async () => {
      const refusedPort = await freeLoopbackPort();
      const refused = makePool({ uri: undefined, host: '127.0.0.1', port: refusedPort, user: 'root', connectionLimit: 1 });
      for (let i = 0; i < 3; i++) {
        await assert.rejects(refused.query('SELECT 1'), (error: NodeJS.ErrnoException & { fatal?: boolean }) => {
          assert.equal(error.code, 'ECONNREFUSED');
          assert.equal(error.syscall, 'connect');
          assert.equal(error.fatal, true);
          return true;
        });
      }
      await assert.rejects(refused.getConnection(), { code: 'ECONNREFUSED' });
      const silent = await fakeServer();
      try {
        const stuck = makePool({
          uri: undefined,
          host: '127.0.0.1',
          port: silent.port,
          user: 'root',
          connectionLimit: 1,
          connectTimeout: 300,
        });
        await assert.rejects(stuck.getConnection(), { code: 'ETIMEDOUT', message: 'connect ETIMEDOUT', syscall: 'connect' });
      } finally {
        await silent.close();
      }
    });

    it('getConnection, release, a second release does nothing; destroy() then release() does nothing, with await using too', async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 1 });
      const first = await pool.getConnection();
      const [[{ id }]] = (await first.query('SELECT CONNECTION_ID() AS id')) as [Row[], unknown] as unknown as [[{ id: number }]];
      first.release();
      first.release();
      assert.equal(await threadOf(pool), id, 'released once, reused');

      const doomed = await pool.getConnection();
      doomed.destroy();
      doomed.release();
      const next = await threadOf(pool);
      assert.notEqual(next, id, 'a destroyed connection is never handed out again');
      await waitFor(async () => (await openThreads([id])).length === 0, 'the destroyed connection closed on the server');

      {
        await using scoped = await pool.getConnection();
        await scoped.query('SELECT 1');
        scoped.destroy();
      }
      {
        await using scoped = await pool.getConnection();
        await scoped.query('SELECT 1');
      }
      assert.deepEqual((await pool.query('SELECT 5 AS n'))[0], [{ n: 5 }], 'connectionLimit 1: the slots were freed');
    });

    it("emits connection, acquire, enqueue and release with mysql2's arguments and in mysql2's order", async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 1 });
      const seen: string[] = [];
      const connections = new Set<unknown>();
      for (const event of ['connection', 'acquire', 'release'] as const) {
        (pool as unknown as NodeJS.EventEmitter).on(event, (connection: { threadId: number }) => {
          assert.equal(typeof connection.threadId, 'number', `${event} carries the connection`);
          connections.add(connection);
          seen.push(event);
        });
      }
      pool.on('enqueue', (...args: unknown[]) => {
        assert.equal(args.length, 0, 'enqueue carries no argument');
        seen.push('enqueue');
      });
      const held = await pool.getConnection();
      assert.deepEqual(seen, ['connection', 'acquire']);
      const order: number[] = [];
      const waiters = [1, 2].map((i) => pool.query('SELECT ? AS i', [i]).then(([rows]) => order.push(Number((rows as Row[])[0]?.i))));
      assert.deepEqual(seen, ['connection', 'acquire', 'enqueue', 'enqueue']);
      held.release();
      await Promise.all(waiters);
      assert.deepEqual(order, [1, 2], 'waiters are served in order');
      // Handed straight to a queued caller: no release, no acquire; the last goes to the free list: release.
      assert.deepEqual(seen, ['connection', 'acquire', 'enqueue', 'enqueue', 'release']);
      await pool.query('SELECT 1');
      assert.deepEqual(seen.slice(5), ['acquire', 'release']);
      assert.equal(connections.size, 1, 'every event carried the one connection');
    });

    it('a queued caller that gets a connection opened for it (the one in use was destroyed) sees connection and acquire', async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 1 });
      const held = await pool.getConnection();
      const seen: string[] = [];
      for (const event of ['connection', 'acquire', 'release', 'enqueue'])
        (pool as unknown as NodeJS.EventEmitter).on(event, () => seen.push(event));
      const queued = pool.query('SELECT 1 AS n');
      held.destroy();
      assert.deepEqual((await queued)[0], [{ n: 1 }]);
      assert.deepEqual(seen, ['enqueue', 'connection', 'acquire', 'release']);
    });

    it("waitForConnections: false and queueLimit fail a checkout at once with mysql2's messages", async (t) => {
      if (!(await live(t))) return;
      const noWait = makePool({ connectionLimit: 1, waitForConnections: false });
      const held = await noWait.getConnection();
      await assert.rejects(noWait.query('SELECT 1'), { message: 'No connections available.' });
      await assert.rejects(noWait.getConnection(), { message: 'No connections available.' });
      held.release();
      assert.deepEqual((await noWait.query('SELECT 1 AS n'))[0], [{ n: 1 }]);

      const limited = makePool({ connectionLimit: 1, queueLimit: 1 });
      const busy = await limited.getConnection();
      const queued = limited.query('SELECT 2 AS n');
      await assert.rejects(limited.query('SELECT 1'), { message: 'Queue limit reached.' });
      busy.release();
      assert.deepEqual((await queued)[0], [{ n: 2 }]);
    });

    it("end(): queued callers fail with 'Pool is closed.', a never-released connection is closed, end() resolves", async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 1 });
      const held = await pool.getConnection();
      const [[{ id }]] = (await held.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
      // Asserted from the start, so the rejections are never unhandled while end() runs.
      const queued = assert.rejects(pool.query('SELECT 1'), { message: 'Pool is closed.' });
      const queuedCheckout = assert.rejects(pool.getConnection(), { message: 'Pool is closed.' });
      await pool.end();
      await queued;
      await queuedCheckout;
      await waitFor(async () => (await openThreads([id])).length === 0, 'the borrowed connection closed on the server');
      held.release(); // after end(): does nothing
      await assert.rejects(pool.query('SELECT 1'), { message: 'Pool is closed.' });
      await assert.rejects(pool.getConnection(), { message: 'Pool is closed.' });
    });

    it('the process exits after end() although a borrowed connection was never released', async (t) => {
      if (!(await live(t))) return;
      // A child process of its own: the test runner's process would hide a handle left open.
      const module = label.startsWith('spillway') ? fileURLToPath(new URL('../../../src/mysql.ts', import.meta.url)) : 'mysql2/promise';
      const script = `
        const { createPool } = await import(${JSON.stringify(module)});
        const pool = createPool({ uri: ${JSON.stringify(MYSQL_URL)}, connectionLimit: 2 });
        const kept = await pool.getConnection();
        await kept.query('SELECT 1');
        await pool.end();
        console.log('ended');
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      const hang = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
      clearTimeout(hang);
      assert.equal(code, 0, `the process did not exit by itself (killed after 30 s): ${output}`);
      assert.match(output, /ended/);
    });

    it('resetOnRelease resets the session when a connection comes back; without it the session is kept', async (t) => {
      if (!(await live(t))) return;
      for (const resetOnRelease of [false, true]) {
        const pool = makePool({ connectionLimit: 1, resetOnRelease });
        const connection = await pool.getConnection();
        await connection.query('SET @spillway_marker = 42');
        const [[{ id }]] = (await connection.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
        connection.release();
        const [[row]] = (await pool.query('SELECT @spillway_marker AS marker, CONNECTION_ID() AS id')) as unknown as [[Row]];
        assert.equal(row?.id, id, 'the same connection');
        assert.equal(row?.marker, resetOnRelease ? null : 42, `resetOnRelease: ${resetOnRelease}`);
        await pool.end();
      }
    });

    it("a connection keeps the server's session defaults (lock waits, statement time), with and without resetOnRelease", async (t) => {
      if (!(await live(t))) return;
      const defaults =
        'SELECT @@SESSION.lock_wait_timeout = @@GLOBAL.lock_wait_timeout AS metadata, @@SESSION.innodb_lock_wait_timeout = @@GLOBAL.innodb_lock_wait_timeout AS innodb, @@SESSION.max_statement_time = @@GLOBAL.max_statement_time AS statement';
      for (const resetOnRelease of [false, true]) {
        const pool = makePool({ connectionLimit: 1, resetOnRelease });
        for (let round = 0; round < 2; round++) {
          const [[row]] = (await pool.query(defaults)) as unknown as [[Row]];
          assert.deepEqual({ ...row }, { metadata: 1, innodb: 1, statement: 1 }, `resetOnRelease: ${resetOnRelease}, round ${round}`);
        }
        await pool.end();
      }
    });

    it('a read-only error (1792) on pool.query or pool.execute discards the connection: it is never handed out again', async (t) => {
      if (!(await live(t))) return;
      const table = uniqueName('myc_ro');
      await mysqlAdminQuery(`CREATE TABLE ${table} (id INT PRIMARY KEY) ENGINE=InnoDB`);
      try {
        for (const method of ['query', 'execute'] as const) {
          const pool = makePool({ connectionLimit: 1 });
          // Every later transaction of this session is read-only: the next write fails with 1792.
          await pool.query('SET SESSION TRANSACTION READ ONLY');
          const id = await threadOf(pool);
          const run = (sql: string, values?: number[]) => (method === 'query' ? pool.query(sql, values) : pool.execute(sql, values));
          await assert.rejects(run(`INSERT INTO ${table} VALUES (1)`), { errno: 1792 });
          const next = await threadOf(pool);
          assert.notEqual(next, id, `${method}: a new connection`);
          await run(`INSERT INTO ${table} VALUES (?)`, [method === 'query' ? 1 : 2]);
          await waitFor(async () => (await openThreads([id])).length === 0, `${method}: the read-only connection closed`);
          await pool.end();
        }
      } finally {
        await mysqlAdminQuery(`DROP TABLE ${table}`);
      }
    });

    it('a connection the server closed (wait_timeout) is never handed out', async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 1 });
      const connection = await pool.getConnection();
      await connection.query('SET SESSION wait_timeout = 1');
      const [[{ id }]] = (await connection.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
      connection.release();
      await waitFor(async () => (await openThreads([id])).length === 0, 'the server closed the idle session');
      // The server's close reaches the client's socket right after it leaves the processlist.
      await sleep(200);
      const next = await threadOf(pool);
      assert.notEqual(next, id);
    });

    it('maxIdle and idleTimeout: free connections above maxIdle are closed, then the rest after idleTimeout', async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 3, maxIdle: 1, idleTimeout: 60_000 });
      const held = await Promise.all([pool.getConnection(), pool.getConnection(), pool.getConnection()]);
      const ids = held.map((c) => (c.connection as unknown as { threadId: number }).threadId);
      for (const connection of held) connection.release();
      await waitFor(async () => (await openThreads(ids)).length === 1, 'two of three closed (maxIdle 1)');
      assert.equal((await openThreads(ids)).length, 1, 'maxIdle connections stay while younger than idleTimeout');

      const short = makePool({ connectionLimit: 3, maxIdle: 1, idleTimeout: 300 });
      const borrowed = await Promise.all([short.getConnection(), short.getConnection()]);
      const shortIds = borrowed.map((c) => (c.connection as unknown as { threadId: number }).threadId);
      for (const connection of borrowed) connection.release();
      await waitFor(async () => (await openThreads(shortIds)).length === 0, 'every idle connection closed after idleTimeout');
      assert.deepEqual((await short.query('SELECT 1 AS n'))[0], [{ n: 1 }], 'and the pool opens new ones');
    });

    it('pool.Promise, pool.pool and pool.pool.promise(): the callback and promise APIs of one pool', async (t) => {
      if (!(await live(t))) return;
      class TaggedPromise<T> extends Promise<T> {}
      const pool = makePool({ connectionLimit: 1, Promise: TaggedPromise } as mysqlPromise.PoolOptions);
      assert.equal(pool.Promise, TaggedPromise);
      const result = pool.query('SELECT 1 AS n');
      assert.ok(result instanceof TaggedPromise, 'results are of the given Promise');
      await result;
      const core = pool.pool;
      assert.equal(typeof core.getConnection, 'function');
      const rows = await new Promise<unknown>((resolve, reject) =>
        core.query('SELECT 2 AS n', (error, r) => (error ? reject(error) : resolve(r))),
      );
      assert.deepEqual(rows, [{ n: 2 }]);
      const again = core.promise();
      assert.equal(again.pool, core, 'promise() wraps the same callback pool');
      assert.deepEqual((await again.query('SELECT 3 AS n'))[0], [{ n: 3 }]);
      const seen: string[] = [];
      again.on('acquire', () => seen.push('acquire'));
      await pool.query('SELECT 4');
      assert.deepEqual(seen, ['acquire'], 'events of the shared pool reach every promise view');
      assert.equal(makePool().Promise, Promise, 'the global Promise by default');
    });
  });
}

for (const [label, makePoolOf] of CALLBACK_CONTENDERS) {
  describe(`${label}: mysql2 callback pool behaviour`, () => {
    const pools: CallbackPool[] = [];
    after(async () => {
      await Promise.race([Promise.all(pools.map((p) => new Promise<void>((resolve) => p.end(() => resolve())))), sleep(5000)]);
    });

    function makePool(config: mysqlCallback.PoolOptions = {}): CallbackPool {
      const pool = makePoolOf({ uri: MYSQL_URL, ...config });
      pools.push(pool);
      return pool;
    }

    it('getConnection(cb), query(sql, values, cb), execute(cb), a streamed query, connection.promise(), release and end(cb)', async (t) => {
      if (!(await live(t))) return;
      const pool = makePool({ connectionLimit: 2 });
      const rows = await new Promise<unknown>((resolve, reject) =>
        pool.query('SELECT ? AS n', [1], (error, r) => (error ? reject(error) : resolve(r))),
      );
      assert.deepEqual(rows, [{ n: 1 }]);
      const executed = await new Promise<unknown>((resolve, reject) =>
        pool.execute('SELECT ? AS n', [2], (error, r) => (error ? reject(error) : resolve(r))),
      );
      assert.deepEqual(executed, [{ n: 2 }]);
      const failure = await new Promise<Error & Row>((resolve) =>
        pool.query('SELEC nope', (error) => resolve(error as unknown as Error & Row)),
      );
      assert.equal(failure.code, 'ER_PARSE_ERROR');
      assert.equal(failure.errno, 1064);
      assert.equal(failure.sqlState, '42000');

      const streamed: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        const query = pool.query('SELECT 1 AS n UNION ALL SELECT 2');
        query.on('result', (row) => streamed.push(row));
        query.on('error', reject);
        query.on('end', () => resolve());
      });
      assert.deepEqual(streamed, [{ n: 1 }, { n: 2 }]);

      const connection = await new Promise<mysqlCallback.PoolConnection>((resolve, reject) =>
        pool.getConnection((error, c) => (error ? reject(error) : resolve(c))),
      );
      const viaPromise = connection.promise();
      assert.deepEqual((await viaPromise.query('SELECT 3 AS n'))[0], [{ n: 3 }]);
      connection.release();
      connection.release();

      const promisePool = pool.promise();
      assert.equal(promisePool.pool, pool);
      assert.deepEqual((await promisePool.query('SELECT 4 AS n'))[0], [{ n: 4 }]);

      await new Promise<void>((resolve, reject) => pool.end((error) => (error ? reject(error) : resolve())));
      const afterEnd = await new Promise<Error | null>((resolve) => pool.getConnection((error) => resolve(error)));
      assert.equal(afterEnd?.message, 'Pool is closed.');
    });

    it('a read-only error on the callback pool.query discards the connection; events as mysql2 emits them', async (t) => {
      if (!(await live(t))) return;
      const table = uniqueName('myc_rocb');
      await mysqlAdminQuery(`CREATE TABLE ${table} (id INT PRIMARY KEY) ENGINE=InnoDB`);
      try {
        const pool = makePool({ connectionLimit: 1 });
        const seen: string[] = [];
        for (const event of ['connection', 'acquire', 'release', 'enqueue']) pool.on(event, () => seen.push(event));
        const run = (sql: string): Promise<{ error: (Error & Row) | null; rows: unknown }> =>
          new Promise((resolve) => pool.query(sql, (error, rows) => resolve({ error: error as (Error & Row) | null, rows })));
        await run('SET SESSION TRANSACTION READ ONLY');
        const before = (await run('SELECT CONNECTION_ID() AS id')).rows as { id: number }[];
        const { error } = await run(`INSERT INTO ${table} VALUES (1)`);
        assert.equal(error?.errno, 1792);
        const afterRows = (await run('SELECT CONNECTION_ID() AS id')).rows as { id: number }[];
        assert.notEqual(afterRows[0]?.id, before[0]?.id);
        assert.deepEqual(seen.slice(0, 2), ['connection', 'acquire']);
        assert.equal(seen.filter((e) => e === 'connection').length, 2, 'a second connection was opened after the read-only error');
      } finally {
        await mysqlAdminQuery(`DROP TABLE ${table}`);
      }
    });
  });
}
