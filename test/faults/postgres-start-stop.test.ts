import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { createPool, InitializationError } from '../../src/index.js';
import { proxyInFrontOf } from '../support/chaos-proxy.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { adminClient, serverConnections } from '../support/fault-checks.js';
import { eventually } from '../support/pool-fixtures.js';
import { freeLoopbackPort } from '../support/ports.js';

// Start-up retries and graceful shutdown on the real PostgreSQL (through a proxy we control for
// the unreachable phase).
describe('start and stop on PostgreSQL', { timeout: 60_000 }, () => {
  let admin: pg.Client;
  let ready = false;

  before(async (t) => {
    ready = await requireServer(t as never, POSTGRES_URL, 'postgres');
    if (ready) admin = await adminClient(POSTGRES_URL);
  });

  after(async () => {
    if (ready) await admin.end();
  });

  it('ready() and initDb() retry while the network drops everything, then run once it passes', async (t) => {
    if (!ready) return t.skip('no server');
    const proxy = await proxyInFrontOf(POSTGRES_URL);
    proxy.blackhole('drop');
    const table = uniqueName('init_db');
    const db = createPool({
      url: proxy.url(POSTGRES_URL),
      name: uniqueName('init'),
      connectTimeoutMs: 300,
      initializationTimeoutMs: 15_000,
      env: {},
    });
    try {
      let healed = false;
      setTimeout(() => {
        healed = true;
        proxy.pass();
      }, 800);
      let runs = 0;
      await db.initDb(async (d) => {
        runs++;
        await d.query(`CREATE TABLE IF NOT EXISTS ${table} (id integer PRIMARY KEY)`);
      });
      assert.ok(healed, 'initDb waited for the network');
      assert.equal(runs, 1);
      assert.ok(db.stats().connectFailures > 0, 'connects failed and were retried');
      const { rows } = await admin.query('SELECT to_regclass($1) AS t', [table]);
      assert.equal(rows[0]?.t, table);
    } finally {
      await db.close();
      await proxy.close();
      await admin.query(`DROP TABLE IF EXISTS ${table}`);
    }
  });

  it('ready() gives up after initializationTimeoutMs with one CONNECT_TIMEOUT error naming the attempts', async (t) => {
    if (!ready) return t.skip('no server');
    const port = await freeLoopbackPort(); // nothing listens there
    const db = createPool({ url: `postgres://postgres@127.0.0.1:${port}/test`, initializationTimeoutMs: 1500, env: {} });
    try {
      const error = await db.ready().then(
        () => assert.fail('should not connect'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof InitializationError);
      assert.equal(error.code, 'CONNECT_TIMEOUT');
      assert.ok(error.attempts > 1);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*initializationTimeoutMs.*ECONNREFUSED`));
    } finally {
      await db.close();
    }
  });

  it('close({ graceMs }) lets in-flight work finish, refuses new checkouts, and leaves no server connection', async (t) => {
    if (!ready) return t.skip('no server');
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('grace'), env: {} });
    const inFlight = db.query('SELECT pg_sleep(0.3) AS slept');
    // In flight once it holds a connection (a fixed sleep raced the connect on a loaded machine).
    await eventually(() => db.status().checkedOut === 1, 10_000, 'the statement to hold a connection');
    const closing = db.close({ graceMs: 5000 });
    await assert.rejects(db.query('SELECT 1'), (e: { code?: string }) => e.code === 'POOL_CLOSED');
    const { rowCount } = await inFlight;
    assert.equal(rowCount, 1, 'the statement running at close() finished normally');
    await closing;
    assert.equal(await serverConnections(admin, `spillway:${db.name}`), 0);
  });

  it('past the grace, a still-running statement is cancelled on the server and its connection closed', async (t) => {
    if (!ready) return t.skip('no server');
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('grace'), env: {} });
    const running = db.query('SELECT pg_sleep(30)').then(
      () => 'finished',
      () => 'failed',
    );
    await eventually(() => db.status().checkedOut === 1, 10_000, 'the statement to hold a connection');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await db.close({ graceMs: 100 });
    assert.equal(await running, 'failed');
    // Without the cancel the backend would sleep on for 30 s: the socket alone is not noticed.
    assert.equal(await serverConnections(admin, `spillway:${db.name}`, 5000), 0);
  });
});
