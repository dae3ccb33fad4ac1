// mysql2's PoolCluster (mysql2 3.24), written once and run against mysql2's own clusters and
// spillway/mysql's (Spillway pools as the nodes) in the same run, on the real MariaDB: patterns, the
// RR / RANDOM / ORDER selectors, node removal (removeNodeErrorCount, `remove`), going offline and
// coming back (restoreNodeTimeout, `offline`, `online`), POOL_NOEXIST and POOL_NONEONLINE. Two nodes
// are told apart by their database; a node that refuses connections is a loopback port nobody
// listens on, and it comes back when a forwarder to the real server starts listening there.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import mysqlCallback from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { createPoolCluster as spillwayPromiseCluster } from '../../../src/mysql.js';
import { createPoolCluster as spillwayCallbackCluster } from '../../../src/mysql-callback.js';
import { MYSQL_URL, requireServer, uniqueName } from '../../support/databases.js';
import { mysqlAdminQuery } from '../../support/mysql-activity.js';
import { freeLoopbackPort } from '../../support/ports.js';

type PromiseCluster = mysqlPromise.PoolCluster;
type CallbackCluster = mysqlCallback.PoolCluster;

const PROMISE_CONTENDERS: [string, (config?: mysqlPromise.PoolClusterOptions) => PromiseCluster][] = [
  ['mysql2/promise createPoolCluster', (config) => mysqlPromise.createPoolCluster(config)],
  ['spillway/mysql createPoolCluster', (config) => spillwayPromiseCluster(config)],
];
const CALLBACK_CONTENDERS: [string, (config?: mysqlCallback.PoolClusterOptions) => CallbackCluster][] = [
  ['mysql2 createPoolCluster', (config) => mysqlCallback.createPoolCluster(config)],
  ['spillway/mysql/callback createPoolCluster', (config) => spillwayCallbackCluster(config) as unknown as CallbackCluster],
];

const server = new URL(MYSQL_URL);
const databases = { A: uniqueName('myclu_a'), B: uniqueName('myclu_b') };
let serverUp = false;

before(async () => {
  try {
    for (const name of Object.values(databases)) await mysqlAdminQuery(`CREATE DATABASE ${name}`);
    serverUp = true;
  } catch {
    serverUp = false;
  }
});
after(async () => {
  if (serverUp) for (const name of Object.values(databases)) await mysqlAdminQuery(`DROP DATABASE IF EXISTS ${name}`);
});

async function live(t: TestContext): Promise<boolean> {
  return (await requireServer(t, MYSQL_URL, 'mysql')) && serverUp;
}

function nodeConfig(database: string, port = Number(server.port || 3306)): mysqlCallback.PoolOptions {
  return { host: server.hostname, port, user: decodeURIComponent(server.username), database, connectionLimit: 2 };
}

/** A forwarder to the real server on `port`, started later: until then the port refuses connections. */
async function forwarderOn(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((client) => {
    const upstream = net.connect({ host: server.hostname, port: Number(server.port || 3306) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}

for (const [label, makeCluster] of PROMISE_CONTENDERS) {
  describe(`${label}: mysql2/promise PoolCluster behaviour`, () => {
    it('patterns and selectors: RR alternates, ORDER takes the first, RANDOM stays inside the pattern', async (t) => {
      if (!(await live(t))) return;
      const cluster = makeCluster();
      try {
        cluster.add('WRITER', nodeConfig(databases.A));
        cluster.add('READER', nodeConfig(databases.B));
        const databaseOf = async (pattern: string, selector?: string): Promise<string> => {
          const [rows] = (await cluster.of(pattern, selector).query('SELECT DATABASE() AS db')) as [{ db: string }[], unknown];
          return String(rows[0]?.db);
        };
        const rr = [];
        for (let i = 0; i < 4; i++) rr.push(await databaseOf('*', 'RR'));
        assert.deepEqual(rr, [databases.A, databases.B, databases.A, databases.B]);
        for (let i = 0; i < 3; i++) assert.equal(await databaseOf('*', 'ORDER'), databases.A);
        for (let i = 0; i < 6; i++) assert.ok([databases.A, databases.B].includes(await databaseOf('*', 'RANDOM')));
        assert.equal(await databaseOf('READ*'), databases.B, 'a wildcard pattern');
        const connection = await cluster.getConnection('WRITER');
        const [[row]] = (await connection.query('SELECT DATABASE() AS db')) as unknown as [[{ db: string }]];
        assert.equal(row?.db, databases.A);
        connection.release();
        const [executed] = await cluster.of('READER').execute('SELECT ? AS n', [1]);
        assert.deepEqual(executed, [{ n: 1 }]);
        await assert.rejects(cluster.getConnection('NOBODY*'), { code: 'POOL_NOEXIST', message: 'Pool does Not exist.' });
      } finally {
        await cluster.end();
      }
    });

    it('a node that fails removeNodeErrorCount times is removed (`remove`), and the call is retried on another node', async (t) => {
      if (!(await live(t))) return;
      const cluster = makeCluster({ removeNodeErrorCount: 1 });
      const removed: string[] = [];
      cluster.on('remove', (id: string) => removed.push(id));
      try {
        cluster.add('BAD', nodeConfig(databases.A, await freeLoopbackPort()));
        cluster.add('GOOD', nodeConfig(databases.B));
        const [rows] = (await cluster.of('*', 'ORDER').query('SELECT DATABASE() AS db')) as [{ db: string }[], unknown];
        assert.equal(rows[0]?.db, databases.B, 'served by the next node');
        assert.deepEqual(removed, ['BAD']);
        await assert.rejects(cluster.getConnection('BAD'), { code: 'POOL_NOEXIST' });
      } finally {
        await cluster.end();
      }
    });
  });
}

for (const [label, makeCluster] of CALLBACK_CONTENDERS) {
  describe(`${label}: mysql2 PoolCluster behaviour`, () => {
    it('restoreNodeTimeout: a failing node goes offline (POOL_NONEONLINE), then comes back online once it answers', async (t) => {
      if (!(await live(t))) return;
      const cluster = makeCluster({ removeNodeErrorCount: 1, restoreNodeTimeout: 200, canRetry: false });
      const events: string[] = [];
      for (const event of ['offline', 'online', 'remove'] as const) cluster.on(event, (id: string) => events.push(`${event}:${id}`));
      const port = await freeLoopbackPort();
      let forwarder: { close(): Promise<void> } | undefined;
      const getConnection = (
        pattern: string,
      ): Promise<{ error: (Error & { code?: string }) | null; connection?: mysqlCallback.PoolConnection }> =>
        new Promise((resolve) => cluster.getConnection(pattern, (error, connection) => resolve({ error, connection })));
      try {
        cluster.add('FLAKY', nodeConfig(databases.A, port));
        const first = await getConnection('FLAKY');
        assert.equal(first.error?.code, 'ECONNREFUSED');
        assert.deepEqual(events, ['offline:FLAKY']);
        const offline = await getConnection('FLAKY');
        assert.equal(offline.error?.code, 'POOL_NONEONLINE');
        assert.equal(offline.error?.message, 'Pool does Not have online node.');
        forwarder = await forwarderOn(port);
        let back: Awaited<ReturnType<typeof getConnection>> | undefined;
        const until = Date.now() + 20_000;
        while (back?.connection === undefined) {
          assert.ok(Date.now() < until, 'the node never came back');
          await sleep(50);
          back = await getConnection('FLAKY');
        }
        back.connection.release();
        assert.deepEqual(events, ['offline:FLAKY', 'online:FLAKY']);
        const rows = await new Promise<unknown>((resolve, reject) =>
          cluster.of('FLAKY').query('SELECT DATABASE() AS db', (error: Error | null, r: unknown) => (error ? reject(error) : resolve(r))),
        );
        assert.deepEqual(rows, [{ db: databases.A }]);
        cluster.remove('FLAKY');
        assert.equal((await getConnection('FLAKY')).error?.code, 'POOL_NOEXIST', 'remove(pattern) takes the node out');
      } finally {
        await new Promise<void>((resolve) => cluster.end(() => resolve()));
        await forwarder?.close();
      }
    });
  });
}
