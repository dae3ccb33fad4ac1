import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import type { Database } from '../../src/database.js';
import type { EndpointOptions } from '../../src/http/endpoints.js';
import { spillwayPlugin } from '../../src/http/fastify.js';
import { createHandler } from '../../src/http/handler.js';
import { createPool } from '../../src/index.js';
import { uniqueName } from '../support/databases.js';
import { json } from '../support/json.js';

// SQLite in memory: the endpoint's rules (token, methods, pool choice) need no server of their own.
const pools: Database[] = [];
after(() => Promise.all(pools.map((db) => db.close())));

async function busyPool(): Promise<Database> {
  const db = createPool({
    url: 'sqlite::memory:',
    name: uniqueName('reset'),
    env: {},
    healthCheckIntervalMs: 0,
    metrics: { registry: new Registry() },
  });
  pools.push(db);
  for (let i = 0; i < 5; i++) await db.query('SELECT 1');
  return db;
}

type Serve = (options: EndpointOptions) => Promise<{ base: string; close(): Promise<void> }>;

const servers: Record<string, Serve> = {
  'spillway/http': async (options) => {
    const server = http.createServer(createHandler({ ...options, prefix: '/ops' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ops`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  },
  'spillway/fastify': async (options) => {
    const app = Fastify();
    await app.register(spillwayPlugin, { ...options, prefix: '/ops' });
    return { base: `${await app.listen({ port: 0, host: '127.0.0.1' })}/ops`, close: () => app.close() };
  },
};

for (const [surface, serve] of Object.entries(servers)) {
  describe(`POST <prefix>/metrics/reset through ${surface}`, () => {
    it('needs the token, resets stats() and the performance summary, and answers with the figures before', async () => {
      const db = await busyPool();
      const other = await busyPool();
      const { base, close } = await serve({ pools: [db, other], token: 'sekret' });
      try {
        assert.equal((await fetch(`${base}/metrics/reset`, { method: 'POST' })).status, 401);
        const wrong = await fetch(`${base}/metrics/reset`, { method: 'POST', headers: { authorization: 'Bearer nope' } });
        assert.equal(wrong.status, 401);
        assert.equal(db.stats().checkouts, 5, 'a refused reset changes nothing');
        const get = await fetch(`${base}/metrics/reset`, { headers: { authorization: 'Bearer sekret' } });
        assert.equal(get.status, 405);
        assert.equal(get.headers.get('allow'), 'POST');
        assert.equal(db.stats().checkouts, 5, 'GET never resets');

        const auth = { authorization: 'Bearer sekret' };
        const one = await fetch(`${base}/metrics/reset?pool=${db.name}`, { method: 'POST', headers: auth });
        assert.equal(one.status, 200);
        const body = await json(one);
        assert.equal(body.pools.length, 1);
        assert.equal(body.pools[0].pool, db.name);
        assert.equal(body.pools[0].before.stats.checkouts, 5);
        assert.equal(body.pools[0].before.performance.totals.queries, 5);
        assert.equal(db.stats().checkouts, 0);
        assert.equal(other.stats().checkouts, 5, '?pool= resets that pool only');
        const summary = await json(await fetch(`${base}/metrics/performance/summary?pool=${db.name}`, { headers: auth }));
        assert.equal(summary.queryMs.count, 0);
        assert.equal(summary.since, body.pools[0].resetAt);
        const stats = await json(await fetch(`${base}/metrics/database/pool?pool=${db.name}`, { headers: auth }));
        assert.equal(stats.stats.checkouts, 0);

        const all = await json(await fetch(`${base}/metrics/reset`, { method: 'POST', headers: auth }));
        assert.deepEqual(
          all.pools.map((p: { pool: string }) => p.pool),
          [db.name, other.name],
        );
        assert.equal(other.stats().checkouts, 0);
        assert.equal((await fetch(`${base}/metrics/reset?pool=nope`, { method: 'POST', headers: auth })).status, 404);
      } finally {
        await close();
      }
    });

    it('without a token configured it refuses (403) unless allowResetWithoutToken says otherwise', async () => {
      const db = await busyPool();
      const strict = await serve({ pool: db });
      try {
        const refused = await fetch(`${strict.base}/metrics/reset`, { method: 'POST' });
        assert.equal(refused.status, 403);
        assert.match((await json(refused)).error, /needs a token/);
        assert.equal(db.stats().checkouts, 5);
      } finally {
        await strict.close();
      }
      const open = await serve({ pool: db, allowResetWithoutToken: true });
      try {
        assert.equal((await fetch(`${open.base}/metrics/reset`, { method: 'POST' })).status, 200);
        assert.equal(db.stats().checkouts, 0);
      } finally {
        await open.close();
      }
    });
  });
}
