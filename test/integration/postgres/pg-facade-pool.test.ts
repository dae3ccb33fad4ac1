// pg-pool's own behaviours, ported to spillway/pg's Pool and run against the real PostgreSQL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

// pg-cursor ships no types; the test drives it through its documented read/close API.
const Cursor = createRequire(import.meta.url)('pg-cursor') as new (
  text: string,
  values?: unknown[],
) => pg.Submittable & { read(n: number): Promise<unknown[]>; close(): Promise<void> };

const pools: Pool[] = [];
after(async () => {
  await Promise.all(pools.filter((p) => !p.ending).map((p) => p.end()));
});

function makePool(config: ConstructorParameters<typeof Pool>[0] = {}): Pool {
  const pool = new Pool({ connectionString: POSTGRES_URL, name: uniqueName('pgf'), ...config });
  pools.push(pool);
  return pool;
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`never happened: ${what}`);
}

async function live(t: TestContext): Promise<boolean> {
  return requireServer(t, POSTGRES_URL, 'postgres');
}

describe('spillway/pg Pool: pg-pool behaviours on PostgreSQL', () => {
  it('query takes text, values, config objects, and promise or callback forms', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1);
    assert.equal((await pool.query('SELECT $1::int AS n', [7])).rows[0].n, 7);
    assert.deepEqual((await pool.query({ text: 'SELECT $1::text AS s', values: ['x'], rowMode: 'array' })).rows, [['x']]);
    const viaCallback = await new Promise<number>((resolve, reject) =>
      pool.query('SELECT $1::int AS n', [3], (err, res) => (err ? reject(err) : resolve(res.rows[0].n))),
    );
    assert.equal(viaCallback, 3);
    const noValues = await new Promise<number>((resolve, reject) =>
      pool.query('SELECT 4 AS n', (err, res) => (err ? reject(err) : resolve(res.rows[0].n))),
    );
    assert.equal(noValues, 4);
    const sqlError = await new Promise<Error>((resolve) => pool.query('SELECT nope', (err) => resolve(err)));
    assert.equal((sqlError as Error & { code: string }).code, '42703', 'database errors pass through with pg fields');
    await assert.rejects(pool.query(undefined as unknown as string), TypeError);
    assert.equal(pool.spillway.status().checkedOut, 0);
  });

  it('a SQL error keeps the connection; pool.query does not leak it', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    let removed = 0;
    pool.on('remove', () => removed++);
    await assert.rejects(pool.query('SELECT 1/0'), { code: '22012' });
    assert.equal((await pool.query('SELECT 2 AS n')).rows[0].n, 2);
    assert.equal(removed, 0);
    assert.equal(pool.totalCount, 1);
  });

  it('connect hands out a real pg.Client whose release returns it; a second release throws', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const client = await pool.connect();
    assert.ok(client instanceof pg.Client);
    assert.equal(pool.idleCount, 0);
    assert.equal(pool.totalCount, 1);
    client.release();
    assert.equal(pool.idleCount, 1);
    assert.throws(() => client.release(), { code: 'RELEASED_TWICE' });
    const again = await pool.connect();
    assert.equal(again, client, 'the idle client is reused');
    again.release();
  });

  it('connect works with a callback and done()', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const n = await new Promise<number>((resolve, reject) =>
      pool.connect((err, client, done) => {
        if (err || client === undefined) return reject(err);
        client.query('SELECT 5 AS n').then((res) => {
          done();
          resolve(res.rows[0].n);
        }, reject);
      }),
    );
    assert.equal(n, 5);
    assert.equal(pool.idleCount, 1);
  });

  it('release(err) and release(true) close the client and emit remove', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const removed: unknown[] = [];
    pool.on('remove', (client) => removed.push(client));
    const a = await pool.connect();
    a.release(new Error('broken'));
    const b = await pool.connect();
    assert.notEqual(b, a);
    b.release(true);
    await eventually(() => removed.length === 2, 'two removes');
    assert.deepEqual(removed, [a, b]);
    assert.equal(pool.totalCount, 0);
    assert.equal(pool.spillway.stats().invalidated, 2);
  });

  it('emits connect once per new client, acquire per checkout, release with (err, client)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const seen: string[] = [];
    let released: [unknown, unknown] | undefined;
    pool.on('connect', () => seen.push('connect'));
    pool.on('acquire', () => seen.push('acquire'));
    pool.on('release', (err, client) => {
      seen.push('release');
      released = [err, client];
    });
    await pool.query('SELECT 1');
    const client = await pool.connect();
    client.release();
    assert.deepEqual(seen, ['connect', 'acquire', 'release', 'acquire', 'release']);
    assert.deepEqual(released, [undefined, client]);
  });

  it('counts waiters and serves them first come, first served', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const held = await pool.connect();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) =>
      pool.connect().then((c) => {
        order.push(i);
        c.release();
      }),
    );
    assert.equal(pool.waitingCount, 3);
    await sleep(50);
    assert.equal(order.length, 0, 'no checkout timeout by default: they keep waiting');
    held.release();
    await Promise.all(waiters);
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(pool.waitingCount, 0);
  });

  it('connectionTimeoutMillis bounds the wait with POOL_TIMEOUT', async (t) => {
    if (!(await live(t))) return;
    // Generous: the same bound applies to opening the first connection, as in pg.Pool, on a busy machine.
    const pool = makePool({ max: 1, connectionTimeoutMillis: 400 });
    const held = await pool.connect();
    await assert.rejects(pool.connect(), { code: 'POOL_TIMEOUT' });
    const viaCallback = await new Promise<Error | undefined>((resolve) => pool.connect((err) => resolve(err)));
    assert.equal((viaCallback as Error & { code?: string }).code, 'POOL_TIMEOUT');
    held.release();
    assert.equal(pool.spillway.stats().timeouts, 2);
  });

  it('idleTimeoutMillis closes idle clients', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2, idleTimeoutMillis: 40 });
    let removed = 0;
    pool.on('remove', () => removed++);
    const [a, b] = [await pool.connect(), await pool.connect()];
    a.release();
    b.release();
    assert.equal(pool.idleCount, 2);
    await eventually(() => pool.totalCount === 0 && removed === 2, 'idle clients closed and removed');
  });

  it('maxUses closes a client after that many checkouts', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, maxUses: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) pids.push((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    assert.equal(pids[0], pids[1]);
    assert.notEqual(pids[1], pids[2]);
    assert.equal(pids[2], pids[3]);
  });

  it('maxLifetimeSeconds: an expired lent client is counted and closed on release', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, maxLifetimeSeconds: 1 });
    const client = await pool.connect();
    assert.equal(pool.expiredCount, 0);
    await sleep(1100);
    assert.equal(pool.expiredCount, 1);
    client.release();
    await eventually(() => pool.totalCount === 0, 'expired client closed');
    assert.equal(pool.spillway.stats().recycled, 1);
  });

  it('end() waits for lent clients, then closes everything; ending/ended; a second end rejects', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const name = pool.spillway.name;
    const client = await pool.connect();
    await pool.query('SELECT 1');
    let ended = false;
    const ending = pool.end().then(() => {
      ended = true;
    });
    assert.equal(pool.ending, true);
    await sleep(50);
    assert.equal(ended, false, 'end waits for the lent client');
    assert.equal(pool.ended, false);
    await assert.rejects(pool.connect(), { code: 'POOL_CLOSED' });
    await assert.rejects(pool.end(), { code: 'POOL_CLOSED' });
    assert.equal((await client.query('SELECT 3 AS n')).rows[0].n, 3, 'the holder may finish its work');
    client.release();
    await ending;
    assert.equal(pool.ended, true);
    assert.equal(pool.totalCount, 0);
    await expectNoServerConnections(name);
  });

  it('end(callback) works on a pool never used', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool();
    await new Promise<void>((resolve, reject) => pool.end((err) => (err ? reject(err) : resolve())));
    assert.equal(pool.ended, true);
  });

  it('emits error (with the client) when an idle client dies, and removes it', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const errors: [Error, unknown][] = [];
    pool.on('error', (err, client) => errors.push([err, client]));
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(() => errors.length === 1 && pool.totalCount === 0, 'idle error reported and client removed');
    const [error, client] = errors[0] as [Error & { client?: unknown }, unknown];
    assert.equal(error.client, client);
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1, 'the pool opens a new client');
  });

  it('an idle client dying with no error listener crashes nothing (pg.Pool would throw)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    assert.equal(pool.listenerCount('error'), 0);
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await eventually(() => pool.totalCount === 0, 'dead idle client removed');
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1);
  });

  it('Spillway options ride along: maxOverflow adds connections under load, statementTimeoutMs bounds statements', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, maxOverflow: 1, statementTimeoutMs: 100 });
    const [a, b] = await Promise.all([pool.connect(), pool.connect()]);
    assert.equal(pool.totalCount, 2, 'one overflow connection beyond max');
    a.release();
    b.release();
    await eventually(() => pool.totalCount === 1, 'the overflow connection closed when returned to a full pool');
    assert.equal(pool.spillway.stats().closedByReason.overflow, 1);
    await assert.rejects(pool.query('SELECT pg_sleep(2)'), { code: '57014' }, 'the server cancels it: a pg error, passed through');
  });

  it('verify runs on each new client; its error fails the checkout and closes the client', async (t) => {
    if (!(await live(t))) return;
    let verified = 0;
    let fail = false;
    const pool = makePool({
      max: 1,
      verify: (client, done) => {
        verified++;
        client.query('SELECT 1').then(
          () => done(fail ? new Error('verify said no') : undefined),
          (err: Error) => done(err),
        );
      },
    });
    await pool.query('SELECT 1');
    await pool.query('SELECT 1');
    assert.equal(verified, 1);
    const client = await pool.connect();
    client.release(true);
    fail = true;
    await assert.rejects(pool.connect(), /verify said no/);
    assert.equal(verified, 2);
    await eventually(() => pool.totalCount === 0, 'rejected client closed');
  });

  it('onConnect prepares each new client before anyone uses it', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({
      max: 1,
      onConnect: async (client) => {
        await client.query("SET application_name = 'prepared-by-onconnect'");
      },
    });
    const { rows } = await pool.query("SELECT current_setting('application_name') AS a");
    assert.equal(rows[0].a, 'prepared-by-onconnect');
  });

  it('query runs submittables: a pg.Query and a pg-cursor, returning their client when done', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const query = pool.query(new pg.Query('SELECT generate_series(1, 3) AS n'));
    const rows: number[] = [];
    query.on('row', (row: { n: number }) => rows.push(row.n));
    await new Promise((resolve, reject) => query.on('end', resolve).on('error', reject));
    assert.deepEqual(rows, [1, 2, 3]);

    const cursor = pool.query(new Cursor('SELECT generate_series(1, 10) AS n'));
    assert.equal((await cursor.read(4)).length, 4);
    assert.equal(pool.spillway.status().checkedOut, 1, 'the cursor holds its client while open');
    await cursor.close();
    await eventually(() => pool.spillway.status().checkedOut === 0, 'cursor client returned');

    const failing = pool.query(new pg.Query('SELECT nope'));
    await new Promise<void>((resolve) => failing.on('error', () => resolve()));
    await eventually(() => pool.spillway.status().checkedOut === 0, 'failed submittable client returned');
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1);
  });

  it('a client released inside a transaction is rolled back before reuse (pg.Pool would hand it on)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    await client.query('BEGIN');
    client.release();
    const next = await pool.connect();
    assert.equal(next, client);
    assert.equal(next.getTransactionStatus?.(), 'I');
    next.release();
  });

  it('the underlying Spillway pool counts the facade’s work and leaks nothing', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 4, min: 1 });
    const name = pool.spillway.name;
    assert.equal(pool.totalCount, 0, 'constructing a pool opens nothing, even with min');
    await Promise.all(Array.from({ length: 100 }, (_, i) => pool.query('SELECT $1::int AS i', [i])));
    const stats = pool.spillway.stats();
    assert.ok(stats.checkouts >= 100, `checkouts ${stats.checkouts}`);
    assert.ok(stats.created <= 4);
    assert.equal(pool.spillway.status().checkedOut, 0);
    assert.equal((await pool.spillway.health()).status, 'healthy');
    await pool.end();
    await expectNoServerConnections(name);
  });

  it('allowExitOnIdle lets the process exit while idle clients stay open', async (t) => {
    if (!(await live(t))) return;
    const dir = await mkdtemp(join(tmpdir(), 'spillway-exit-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const script = join(dir, 'exit-on-idle.mts');
    const facade = pathToFileURL(new URL('../../../src/pg.ts', import.meta.url).pathname).href;
    await writeFile(
      script,
      `import { Pool } from ${JSON.stringify(facade)};
const pool = new Pool({ connectionString: ${JSON.stringify(POSTGRES_URL)}, max: 2, allowExitOnIdle: true });
await pool.query('SELECT 1');
console.log('idle clients:', pool.idleCount);
`,
    );
    // A separate process: exiting on its own, with no end(), is the behaviour under test.
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    assert.equal(code, 0, 'the child exited by itself (not killed after 30 s)');
    assert.match(output, /idle clients: 1/);
  });
});
