import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { type Alert, createPool, type Session } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { freeLoopbackPort } from '../../support/ports.js';

const quiet = () => ({ metrics: { registry: new Registry() }, healthCheckIntervalMs: 0 });

describe('health checks and alerts on PostgreSQL', () => {
  it('runs in the background on an unref timer, keeps a history, and stops on close', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('bg'), ...quiet(), healthCheckIntervalMs: 50 });
    const monitor = db.observability?.health;
    assert.ok(monitor);
    for (let i = 0; i < 100 && monitor.history().length < 3; i++) await sleep(20);
    await db.close();
    const seen = monitor.history().length;
    assert.ok(seen >= 3, `background checks ran (${seen})`);
    assert.ok(monitor.history().every((h) => h.result === 'success' && typeof h.latencyMs === 'number'));
    assert.equal(monitor.last?.status, 'healthy');
    await sleep(150);
    assert.equal(monitor.history().length, seen, 'no checks after close');
  });

  it('reports healthy with latency, pool and circuit, and degrades when usage stays above 80%', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('usage'), size: 5, maxOverflow: 0, ...quiet() });
    const alerts: Alert[] = [];
    db.on('alert', (alert) => alerts.push(alert));
    const held: Session[] = [];
    try {
      const report = await db.health();
      assert.equal(report.status, 'healthy');
      assert.equal(report.circuit, 'closed');
      assert.equal(typeof report.latencyMs, 'number');
      assert.equal(report.pool.size, 5);
      for (let i = 0; i < 5; i++) held.push(await db.acquire());
      held.pop()?.release(); // 4 of 5 checked out: 80%, not above
      assert.equal((await db.health()).status, 'healthy');
      const checkWhileFull = async () => {
        held.push(await db.acquire()); // 5 of 5 while the check starts
        const report = db.health();
        await sleep(10);
        held.pop()?.release(); // let the ping through
        return report;
      };
      assert.equal((await checkWhileFull()).status, 'healthy', 'one full sample is not "stays above"');
      assert.equal(alerts.length, 0);
      const degraded = await checkWhileFull();
      assert.equal(degraded.status, 'degraded', JSON.stringify(degraded.reasons));
      assert.match(degraded.reasons.join(), /utilization 100%/);
      assert.deepEqual(
        alerts.map((a) => [a.type, a.severity]),
        [['pool_usage_high', 'warning']],
      );
      assert.equal(degraded.alerts.active[0]?.type, 'pool_usage_high');
    } finally {
      for (const s of held) s.release();
      await db.close();
    }
  });

  it('is degraded after one failed ping and unhealthy after repeated failures, with a critical alert', async (t) => {
    const port = await freeLoopbackPort();
    const db = createPool({
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      name: uniqueName('down'),
      connectTimeoutMs: 500,
      ...quiet(),
    });
    const alerts: Alert[] = [];
    db.on('alert', (alert) => alerts.push(alert));
    db.on('error', () => undefined);
    try {
      const first = await db.health();
      assert.equal(first.status, 'degraded');
      assert.equal(first.latencyMs, undefined);
      assert.match(first.error ?? '', /ECONNREFUSED|connect/i);
      const second = await db.health();
      assert.equal(second.status, 'unhealthy');
      assert.equal(second.consecutiveFailures, 2);
      assert.deepEqual(
        alerts.map((a) => [a.type, a.severity]),
        [['database_unhealthy', 'critical']],
      );
      await db.health(); // still unhealthy: the alert stays active, nothing new fires
      assert.equal(alerts.length, 1);
      assert.equal(db.observability?.health.counts().failure, 3);
    } finally {
      await db.close();
    }
    t.diagnostic('a pool pointed at a closed loopback port (no server needed)');
  });

  it('flags slow statements (p95 over the threshold) as degraded with a warning', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('slow'), ...quiet(), alerts: { slowQueryMs: 20 } });
    const alerts: Alert[] = [];
    db.on('alert', (alert) => alerts.push(alert));
    try {
      for (let i = 0; i < 3; i++) await db.query('SELECT pg_sleep(0.05)');
      const report = await db.health();
      assert.equal(report.status, 'degraded');
      assert.match(report.reasons.join(), /statements slow/);
      assert.ok(alerts.some((a) => a.type === 'slow_queries' && a.severity === 'warning'));
      const perf = db.observability?.performance();
      assert.ok(perf && perf.queryMs.count === 3 && perf.queryMs.p50 >= 45, JSON.stringify(perf));
    } finally {
      await db.close();
    }
  });

  it('raises a critical alert on a high statement failure rate', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('fail'), ...quiet(), alerts: { minQueries: 10, queryFailureRate: 0.2 } });
    const alerts: Alert[] = [];
    db.on('alert', (alert) => alerts.push(alert));
    try {
      for (let i = 0; i < 10; i++) await db.query(i % 2 === 0 ? 'SELECT 1' : 'SELECT * FROM missing_table_x').catch(() => undefined);
      const report = await db.health();
      assert.ok(
        alerts.some((a) => a.type === 'query_failure_rate' && a.severity === 'critical'),
        JSON.stringify(alerts),
      );
      assert.equal(db.observability?.performance().failureRates.query, 0.5);
      assert.equal(report.status, 'degraded');
    } finally {
      await db.close();
    }
  });

  // The leak event is emitted as the leak detector emits it. The circuit state has one source, the
  // pool's breaker: it is driven through its own API (connectivity failures, then a success).
  it('follows the breaker and leak events: unhealthy while open, leaks degrade and alert', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const db = createPool({ url: POSTGRES_URL, name: uniqueName('events'), ...quiet() });
    const alerts: Alert[] = [];
    db.on('alert', (alert) => alerts.push(alert));
    try {
      db.pool.emit('leak', { connectionId: 7, heldMs: 65_000, stack: 'Error\n    at handler (app.js:1:1)', poolName: db.name });
      assert.deepEqual(alerts.at(-1)?.type, 'connection_leak');
      const leaky = await db.health();
      assert.equal(leaky.status, 'degraded');
      assert.equal(db.observability?.leaks().recent[0]?.connectionId, 7);

      const breaker = db.pools[0]?.resilience.breaker;
      assert.ok(breaker);
      const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      for (let i = 0; i < db.config.circuit.failureThreshold; i++) breaker.failure(refused, performance.now());
      assert.deepEqual([alerts.at(-1)?.type, alerts.at(-1)?.severity], ['circuit_open', 'critical']);
      // The health check's checkout is refused at once (no I/O), so the breaker's probe cannot run meanwhile.
      const open = await db.health();
      assert.equal(open.circuit, 'open');
      assert.equal(open.status, 'unhealthy');
      breaker.success(performance.now());
      assert.equal((await db.health()).circuit, 'closed');
      assert.ok(!(await db.health()).alerts.active.some((a) => a.type === 'circuit_open'));
    } finally {
      await db.close();
    }
  });
});
