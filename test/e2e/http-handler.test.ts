import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createHandler } from '../../src/http/index.js';
import { createPool, type Database } from '../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { json } from '../support/json.js';
import { freeLoopbackPort } from '../support/ports.js';

const TOKEN = 'test-token-123';
const QUERY_SECRET = 'qs-secret-value';

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('spillway/http over real HTTP against PostgreSQL', () => {
  let db: Database;
  let down: Database;
  let server: http.Server;
  let base = '';
  let ready = false;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${base}${path}`, { headers });

  before(async () => {
    const registry = new Registry();
    // The password rides in the query string: /metrics/database/config must still hide it.
    db = createPool({
      url: `${POSTGRES_URL}?password=${QUERY_SECRET}`,
      name: uniqueName('http'),
      size: 4,
      maxOverflow: 1,
      healthCheckIntervalMs: 0,
      metrics: { registry },
    });
    const deadPort = await freeLoopbackPort(); // nothing listens there: a database that is down
    down = createPool({
      url: `postgres://postgres@127.0.0.1:${deadPort}/test`,
      name: uniqueName('down'),
      healthCheckIntervalMs: 0,
      metrics: { registry },
    });
    down.on('error', () => undefined);
    const handler = createHandler({
      pools: [db, down],
      prefix: '/db/',
      token: TOKEN,
      service: 'orders',
      dashboard: (_req, res) => {
        res.end('<html>dashboard</html>');
      },
    });
    // Mounted the way Express mounts middleware: unknown paths fall through to next().
    server = http.createServer((req, res) =>
      handler(req, res, () => {
        res.statusCode = 418;
        res.end('next');
      }),
    );
    base = await listen(server);
  });

  after(async () => {
    server?.close();
    await Promise.all([db?.close(), down?.close()]);
  });

  it('serves every contract endpoint with its status codes', async (t) => {
    ready = await requireServer(t, POSTGRES_URL, 'postgres');
    if (!ready) return;
    await db.query('SELECT 1');

    const health = await get('/db/health', {});
    assert.equal(health.status, 200);
    assert.equal((await json(health)).status, 'ok');

    const database = await get('/db/health/database', {});
    assert.equal(database.status, 200);
    const databaseBody = await json(database);
    assert.equal(databaseBody.status, 'healthy');
    assert.equal(databaseBody.dialect, 'postgres');
    assert.equal(typeof databaseBody.latencyMs, 'number');
    assert.equal((await get(`/db/health/database?pool=${down.name}`, {})).status, 503);

    const pool = await json(await get('/db/health/pool', {}));
    for (const key of ['size', 'maxOverflow', 'checkedIn', 'checkedOut', 'overflow', 'total', 'waiting', 'utilization'])
      assert.ok(key in pool, key);
    assert.equal(pool.size, 4);
    assert.ok(pool.utilization >= 0 && pool.utilization <= 1);

    const detailed = await get('/db/health/detailed');
    assert.equal(detailed.status, 200);
    const detailedBody = await json(detailed);
    for (const key of ['status', 'service', 'database', 'pool', 'circuit', 'alerts', 'leaks']) assert.ok(key in detailedBody, key);
    assert.equal(detailedBody.service, 'orders');
    assert.equal(detailedBody.circuit, 'closed');
    assert.equal(detailedBody.pools.length, 2);
    await get(`/db/health/detailed?pool=${down.name}`);
    assert.equal((await get(`/db/health/detailed?pool=${down.name}`)).status, 503, 'unhealthy after repeated failures');

    const metrics = await get('/db/metrics', {});
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    assert.match(text, new RegExp(`db_client_connection_count\\{pool_name="${db.name}",state="idle"\\}`));
    assert.match(text, new RegExp(`db_client_connection_max\\{pool_name="${down.name}"\\} 20`));

    const poolMetrics = await json(await get('/db/metrics/database/pool'));
    assert.equal(poolMetrics.status.size, 4);
    assert.ok(poolMetrics.stats.checkouts >= 2);
    assert.ok(poolMetrics.hitRatio >= 0 && poolMetrics.hitRatio <= 1);

    const healthMetrics = await json(await get('/db/metrics/database/health'));
    assert.ok(Array.isArray(healthMetrics.history) && healthMetrics.history.length >= 1);
    assert.equal(healthMetrics.last.status, 'healthy');

    const config = await get('/db/metrics/database/config');
    assert.equal(config.status, 200);
    const configText = await config.text();
    assert.doesNotMatch(configText, new RegExp(QUERY_SECRET));
    assert.equal(JSON.parse(configText).password, '***');
    assert.equal(JSON.parse(configText).size, 4);

    const summary = await json(await get('/db/metrics/performance/summary'));
    for (const series of [summary.checkoutWaitMs, summary.queryMs])
      for (const p of ['p50', 'p95', 'p99']) assert.equal(typeof series[p], 'number');
    assert.ok(summary.queryMs.count >= 1);
    assert.equal(typeof summary.failureRates.query, 'number');

    const dashboard = await get('/db/dashboard', {});
    assert.equal(dashboard.status, 200);
    assert.equal(await dashboard.text(), '<html>dashboard</html>');
  });

  it('protects detailed health, database metrics and the performance summary with the bearer token', async (t) => {
    if (!ready) return t.skip('PostgreSQL unreachable (see the first test)');
    for (const path of [
      '/health/detailed',
      '/metrics/database/pool',
      '/metrics/database/health',
      '/metrics/database/config',
      '/metrics/performance/summary',
    ]) {
      const missing = await get(`/db${path}`, {});
      assert.equal(missing.status, 401, path);
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
      assert.equal((await get(`/db${path}`, { authorization: 'Bearer wrong' })).status, 401, path);
    }
    for (const path of ['/health', '/health/pool', '/metrics']) assert.equal((await get(`/db${path}`, {})).status, 200, path);
  });

  it('passes unknown paths to next(), refuses other methods, answers HEAD and unknown pools', async (t) => {
    if (!ready) return t.skip('PostgreSQL unreachable (see the first test)');
    assert.equal((await get('/elsewhere', {})).status, 418);
    assert.equal((await get('/db/nope', {})).status, 418);
    const post = await fetch(`${base}/db/health`, { method: 'POST' });
    assert.equal(post.status, 405);
    const head = await fetch(`${base}/db/health/pool`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await get('/db/health/pool?pool=missing', {})).status, 404);
    assert.equal((await get('/db/health/pool/', {})).status, 200, 'trailing slash');
  });
});
