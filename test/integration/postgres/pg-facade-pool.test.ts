// spillway/pg's Pool beyond pg.Pool's own behaviour (which pg-pool-compat.test.ts checks against both
// pools): the two deliberate differences of docs/migration.md, the extra fields on pg-pool's errors,
// Spillway's options riding along, and the Spillway pool underneath. Real PostgreSQL throughout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { waitFor } from '../../support/polling.js';
import { freeLoopbackPort } from '../../support/ports.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

// pg-cursor ships no types; the test drives it through its documented read/close API.
const Cursor = createRequire(import.meta.url)('pg-cursor') as new (
  text: string,
  values?: unknown[],
) => pg.Submittable & { read(n: number): Promise<unknown[]>; close(): Promise<void> };

const pools: Pool[] = [];
after(async () => {
  await Promise.race([Promise.all(pools.filter((p) => !p.ending).map((p) => p.end())), sleep(5000)]);
});

/** A pool whose server connections carry application_name spillway:<name>, so the test can count them. */
function makePool(config: ConstructorParameters<typeof Pool>[0] = {}): Pool {
  const name = uniqueName('pgf');
  const pool = new Pool({ connectionString: POSTGRES_URL, name, application_name: `spillway:${name}`, ...config });
  pools.push(pool);
  return pool;
}

async function live(t: TestContext): Promise<boolean> {
  return requireServer(t, POSTGRES_URL, 'postgres');
}

describe('spillway/pg Pool: the differences from pg.Pool, kept on purpose', () => {
  it('difference 1: an idle client dying with no error listener crashes nothing (pg.Pool would throw)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    assert.equal(pool.listenerCount('error'), 0);
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(() => pool.totalCount === 0, 'dead idle client removed');
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1);
  });

  it('difference 1: a lent client whose connection dies, with no listener on it, crashes nothing; release removes it', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    assert.equal(client.listenerCount('error'), 1, "only the pool's own listener");
    const ended = new Promise((resolve) => client.once('end', resolve));
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await ended; // the connection is gone (until then pg still counts the client as queryable)
    await assert.rejects(client.query('SELECT 1'));
    client.release();
    assert.equal(pool.totalCount, 0);
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1);
  });

  it('difference 2: callers queued beyond max when end() is called are served too (pg.Pool leaves them pending)', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const queries = Array.from({ length: 8 }, (_, i) => pool.query('SELECT $1::int AS i, pg_sleep(0.01)', [i]));
    assert.ok(pool.waitingCount > 0, 'some are queued for a client');
    await pool.end();
    assert.deepEqual(
      (await Promise.all(queries)).map((r) => r.rows[0].i),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(pool.ended, true);
    await expectNoServerConnections(pool.spillway.name);
  });

  it('difference 2: pool.query(submittable) returns it and gives its client back when done (pg.Pool never does)', async (t) => {
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
    await waitFor(() => pool.spillway.status().checkedOut === 0, 'cursor client returned');

    const failing = pool.query(new pg.Query('SELECT nope'));
    const error = await new Promise<Error & { code?: string }>((resolve) => failing.on('error', resolve));
    assert.equal(error.code, '42703');
    await waitFor(() => pool.spillway.status().checkedOut === 0, 'failed submittable client returned');
    assert.equal((await pool.query('SELECT 1 AS n')).rows[0].n, 1);
  });
});

describe("spillway/pg Pool: pg-pool's errors with Spillway's fields", () => {
  it("a checkout timeout keeps pg-pool's message and adds code POOL_TIMEOUT, the pool status and the timeout", async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, connectionTimeoutMillis: 150 });
    const held = await pool.connect();
    await assert.rejects(pool.connect(), (error: Error & { code?: string; timeoutMs?: number; status?: { checkedOut: number } }) => {
      assert.equal(error.message, 'timeout exceeded when trying to connect');
      assert.equal(error.code, 'POOL_TIMEOUT');
      assert.equal(error.status?.checkedOut, 1, 'the pool status when the wait ended');
      assert.equal(typeof error.timeoutMs, 'number', 'how long it waited');
      return true;
    });
    const viaCallback = await new Promise<Error | undefined>((resolve) => pool.connect((err) => resolve(err)));
    assert.equal((viaCallback as Error & { code?: string }).code, 'POOL_TIMEOUT');
    held.release();
    assert.equal(pool.spillway.stats().timeouts, 2);
  });

  it('errors after end() and a second release carry POOL_CLOSED and RELEASED_TWICE', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1 });
    const client = await pool.connect();
    client.release();
    assert.throws(() => client.release(), { code: 'RELEASED_TWICE' });
    await pool.end();
    await assert.rejects(pool.query('SELECT 1'), { code: 'POOL_CLOSED' });
    await assert.rejects(pool.end(), { code: 'POOL_CLOSED' });
  });
});

describe("spillway/pg Pool: Spillway's options ride along, off until given", () => {
  it('no circuit breaker unless asked: with `circuit`, refused connects open it (CIRCUIT_OPEN)', async () => {
    const port = await freeLoopbackPort();
    const pool = makePool({
      connectionString: undefined,
      host: '127.0.0.1',
      port,
      circuit: { failureThreshold: 2, recoveryTimeoutMs: 60_000 },
    });
    await assert.rejects(pool.connect(), { code: 'ECONNREFUSED' });
    await assert.rejects(pool.connect(), { code: 'ECONNREFUSED' });
    await assert.rejects(pool.connect(), { code: 'CIRCUIT_OPEN' });
    assert.equal(pool.spillway.circuit()?.state, 'open');
    assert.equal(makePool({ connectionString: undefined, host: '127.0.0.1', port }).spillway.circuit(), undefined);
  });

  it('maxOverflow adds clients under load; statementTimeoutMs bounds statements', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, maxOverflow: 1, statementTimeoutMs: 100 });
    const [a, b] = await Promise.all([pool.connect(), pool.connect()]);
    assert.equal(pool.totalCount, 2, 'one overflow client beyond max');
    a.release();
    b.release();
    await waitFor(() => pool.totalCount === 1, 'the overflow client closed when returned to a full pool');
    assert.equal(pool.spillway.stats().closedByReason.overflow, 1);
    await assert.rejects(pool.query('SELECT pg_sleep(2)'), { code: '57014' }, 'the server cancels it: a pg error, passed through');
  });

  it('prePing validates an idle client before lending it, and replaces a dead one', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, prePing: true, prePingBypassMs: 0 });
    const pid = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
    await waitFor(async () => (await adminQuery('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).length === 0, 'backend gone');
    assert.notEqual((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid);
  });
});

describe('spillway/pg Pool: the Spillway pool underneath', () => {
  it('hands out real pg.Clients; connect(callback) gives done()', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const client = await pool.connect();
    assert.ok(client instanceof pg.Client);
    client.release();
    const n = await new Promise<number>((resolve, reject) =>
      pool.connect((err, c, done) => {
        if (err || c === undefined) return reject(err);
        c.query('SELECT 5 AS n').then((res) => {
          done();
          resolve(res.rows[0].n);
        }, reject);
      }),
    );
    assert.equal(n, 5);
    assert.equal(pool.idleCount, 1);
  });

  it('release(err) and release(true) remove the client, counted as invalidated', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 2 });
    const removed: unknown[] = [];
    pool.on('remove', (client) => removed.push(client));
    const a = await pool.connect();
    a.release(new Error('broken'));
    const b = await pool.connect();
    assert.notEqual(b, a);
    b.release(true);
    await waitFor(() => removed.length === 2, 'two removes');
    // Each 'remove' comes as that client's connection ends: in either order.
    assert.ok(removed.includes(a) && removed.includes(b));
    assert.equal(pool.spillway.stats().invalidated, 2);
  });

  it('maxLifetimeSeconds and maxUses show as recycled; idle removal as closed idle', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 1, maxUses: 1, idleTimeoutMillis: 20 });
    await pool.query('SELECT 1');
    assert.equal(pool.spillway.stats().recycled, 1);
    const client = await pool.connect();
    client.release(); // expended too
    const lasting = makePool({ max: 1, idleTimeoutMillis: 20 });
    await lasting.query('SELECT 1');
    await waitFor(() => lasting.spillway.stats().closedByReason.idle === 1, 'idle removal counted');
  });

  it('verify runs once per new client; onConnect prepares each new client', async (t) => {
    if (!(await live(t))) return;
    let verified = 0;
    const pool = makePool({
      max: 1,
      verify: (client, done) => {
        verified++;
        client.query('SELECT 1').then(
          () => done(),
          (err: Error) => done(err),
        );
      },
      onConnect: async (client) => {
        await client.query("SET application_name = 'prepared-by-onconnect'");
      },
    });
    await pool.query('SELECT 1');
    const { rows } = await pool.query("SELECT current_setting('application_name') AS a");
    assert.equal(rows[0].a, 'prepared-by-onconnect');
    assert.equal(verified, 1);
  });

  it('counts the facade’s work, reports health, and leaves no server connection after end()', async (t) => {
    if (!(await live(t))) return;
    const pool = makePool({ max: 4, min: 1 });
    assert.equal(pool.totalCount, 0, 'constructing a pool opens nothing, even with min');
    await Promise.all(Array.from({ length: 100 }, (_, i) => pool.query('SELECT $1::int AS i', [i])));
    const stats = pool.spillway.stats();
    assert.ok(stats.checkouts >= 100, `checkouts ${stats.checkouts}`);
    assert.ok(stats.created <= 4);
    assert.equal(pool.spillway.status().checkedOut, 0);
    assert.equal((await pool.spillway.health()).status, 'healthy');
    await pool.end();
    await expectNoServerConnections(pool.spillway.name);
  });

  it('a connection that never answers is cut at connectionTimeoutMillis, leaving no socket behind', async (t) => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', () => undefined); // read what the client sends, so its close is seen
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const pool = makePool({
      connectionString: undefined,
      host: '127.0.0.1',
      port: (server.address() as net.AddressInfo).port,
      connectionTimeoutMillis: 100,
    });
    await assert.rejects(pool.connect(), { code: 'CONNECT_TIMEOUT', message: 'Connection terminated due to connection timeout' });
    await waitFor(() => sockets.size === 0, 'the timed-out socket closed');
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
