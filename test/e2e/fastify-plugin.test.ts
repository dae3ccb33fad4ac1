import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { spillwayPlugin } from '../../src/http/fastify.js';
import { createPool } from '../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { json } from '../support/json.js';

describe('spillway/fastify over real HTTP against PostgreSQL', () => {
  it('serves the endpoints under the register prefix, with the token and the dashboard hook', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({
      url: POSTGRES_URL,
      name: uniqueName('fastify'),
      healthCheckIntervalMs: 0,
      metrics: { registry: new Registry() },
    });
    const app = Fastify();
    await app.register(spillwayPlugin, {
      pool: db,
      prefix: '/ops',
      token: 'sekret',
      dashboard: (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end('<html>ok</html>');
      },
    });
    app.get('/app', async () => ({ mine: true }));
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await db.query('SELECT 1');
      const auth = { authorization: 'Bearer sekret' };
      const health = await fetch(`${base}/ops/health`);
      assert.equal(health.status, 200);
      assert.equal((await json(health)).status, 'ok');
      const database = await json(await fetch(`${base}/ops/health/database`));
      assert.equal(database.status, 'healthy');
      assert.equal(database.dialect, 'postgres');
      const pool = await json(await fetch(`${base}/ops/health/pool`));
      assert.equal(typeof pool.utilization, 'number');
      assert.equal((await fetch(`${base}/ops/health/detailed`)).status, 401);
      const detailed = await fetch(`${base}/ops/health/detailed`, { headers: auth });
      assert.equal(detailed.status, 200);
      assert.equal((await json(detailed)).circuit, 'closed');
      const metrics = await fetch(`${base}/ops/metrics`);
      assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(await metrics.text(), new RegExp(`db_client_operation_duration_seconds_count\\{pool_name="${db.name}"\\} 1`));
      for (const path of [
        '/metrics/database/pool',
        '/metrics/database/health',
        '/metrics/database/config',
        '/metrics/performance/summary',
      ]) {
        assert.equal((await fetch(`${base}/ops${path}`)).status, 401, path);
        assert.equal((await fetch(`${base}/ops${path}`, { headers: auth })).status, 200, path);
      }
      const summary = await json(await fetch(`${base}/ops/metrics/performance/summary`, { headers: auth }));
      assert.equal(summary.queryMs.count, 1);
      const dashboard = await fetch(`${base}/ops/dashboard`);
      assert.equal(await dashboard.text(), '<html>ok</html>');
      assert.deepEqual(await json(await fetch(`${base}/app`)), { mine: true });
      assert.equal((await fetch(`${base}/health`)).status, 404, 'only under the prefix');
    } finally {
      await app.close();
      await db.close();
    }
  });
});
