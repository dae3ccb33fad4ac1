import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createHandler } from '../../../src/http/index.js';
import { createPool, type Database, type Session } from '../../../src/index.js';
import { sample } from '../../support/contract-metrics.js';
import { json } from '../../support/json.js';
import { captureLogs } from '../../support/log-capture.js';
import { eventually } from '../../support/pool-fixtures.js';

// SQLite runs every write, transaction, withConnection and acquire on the writer pool (one connection).
// A write transaction left open (leaked), and a writer queue that times out behind it, must be seen on
// every surface the reader pool is seen on: one test per surface, on one staged database.
describe('sqlite: the writer pool is observed like the reader pool', () => {
  let dir = '';
  let db: Database;
  let server: http.Server;
  let base = '';
  let leaked: Session | undefined;
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const { logger, lines } = captureLogs();
  const alerts: string[] = [];
  const leakWarnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === 'SPILLWAY_LEAK') leakWarnings.push(warning.message);
  };

  before(async () => {
    process.on('warning', onWarning);
    dir = await mkdtemp(join(tmpdir(), 'spillway-writer-observed-'));
    db = createPool({
      url: `sqlite:${join(dir, 'app.db')}`,
      name: 'wobserved',
      size: 2,
      checkoutTimeoutMs: 300,
      leakThresholdMs: 150,
      healthCheckIntervalMs: 0,
      metrics: { registry },
      tracing: { tracerProvider: provider },
      logger,
      env: {},
    });
    db.on('alert', (alert) => alerts.push(alert.type));
    server = http.createServer(createHandler({ pool: db }));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

    await db.query('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    // The leak: a write transaction taken and never finished.
    leaked = await db.acquire();
    await leaked.query('BEGIN IMMEDIATE');
    await leaked.query("INSERT INTO items (id, name) VALUES (1, 'one')");
    await eventually(() => alerts.includes('connection_leak'), 5000, 'the leak alert');
    // A writer queue that times out: the one writer connection is held.
    await assert.rejects(db.query("INSERT INTO items (id, name) VALUES (2, 'two')"), { code: 'POOL_TIMEOUT' });
  });

  after(async () => {
    leaked?.release();
    process.off('warning', onWarning);
    server?.close();
    await db?.close({ graceMs: 0 });
    await provider.shutdown();
    await rm(dir, { recursive: true, force: true });
  });

  it('metrics: the writer has its own series, its timeout in the contract timeout metric', async () => {
    const text = await registry.metrics();
    const writer = { pool_name: 'wobserved:writer' };
    assert.equal(sample(text, 'db_client_connection_timeouts_total', writer), 1, 'writer checkout timeout');
    assert.equal(sample(text, 'spillway_operation_failures_total', { ...writer, kind: 'checkout_timeout' }), 1);
    assert.equal(sample(text, 'spillway_leaks_detected_total', writer), 1, 'writer leak');
    assert.equal(sample(text, 'db_client_connection_count', { ...writer, state: 'used' }), 1);
    assert.equal(sample(text, 'db_client_connection_max', writer), 1);
    assert.ok((sample(text, 'db_client_connection_wait_time_seconds_count', writer) ?? 0) >= 2, 'writer checkouts timed');
    assert.equal(sample(text, 'spillway_circuit_state', writer), 0);
    // The reader pool's series are still its own.
    assert.equal(sample(text, 'db_client_connection_timeouts_total', { pool_name: 'wobserved' }), 0);
  });

  it('/health/pool lists every pool, the writer with its timeout', async () => {
    const pool = await json(await fetch(`${base}/health/pool`));
    assert.equal(pool.name, 'wobserved');
    const writerView = pool.pools.find((p: { role: string }) => p.role === 'writer');
    assert.equal(writerView.name, 'wobserved:writer');
    assert.equal(writerView.checkedOut, 1);
    assert.equal(writerView.timeouts, 1);
    assert.equal(writerView.utilization, 1);
  });

  it('/health/detailed and alerts: the leaked write transaction raises the leak alert and degrades health', async () => {
    const detailed = await json(await fetch(`${base}/health/detailed`));
    assert.ok(
      detailed.alerts.recent.some(
        (a: { type: string; message: string }) => a.type === 'connection_leak' && a.message.includes('wobserved:writer'),
      ),
      JSON.stringify(detailed.alerts),
    );
    assert.equal(detailed.leaks.total, 1);
    assert.equal(detailed.leaks.recent[0].pool, 'wobserved:writer');
    assert.ok(detailed.database.pools.some((p: { role: string; timeouts: number }) => p.role === 'writer' && p.timeouts === 1));
    assert.notEqual(detailed.status, 'healthy', 'a leak degrades the database');
    assert.ok(leakWarnings.length >= 1, 'the leak warning was printed too');
  });

  it("logs: the writer's events carry its pool name", () => {
    const logged = lines();
    assert.ok(logged.some((l) => l.msg === 'checkout timed out' && l.pool === 'wobserved:writer'));
    assert.ok(logged.some((l) => l.msg === 'connection leak suspected' && l.pool === 'wobserved:writer'));
  });

  it("traces: the writer's checkouts have spans naming the writer pool, the timed-out one failed", () => {
    const writerSpans = exporter.getFinishedSpans().filter((s) => s.attributes['db.client.connection.pool.name'] === 'wobserved:writer');
    assert.ok(writerSpans.length >= 2, `writer checkout spans: ${writerSpans.length}`);
    assert.ok(
      writerSpans.some((s) => s.status.code === 2),
      'the timed-out checkout span is an error',
    );
  });

  it('dashboard: the page lists the pools from /health/pool, writer included', async () => {
    const page = await (await fetch(`${base}/dashboard`)).text();
    assert.ok(page.includes('id="pools"'), 'the page has the pools table');
    const script = await readFile(new URL('../../../src/http/dashboard/dashboard.js', import.meta.url), 'utf8');
    assert.match(script, /renderPools\(pool\.pools\)/);
    // (test/e2e/dashboard-browser.test.ts checks in a real browser that the table is drawn from that data.)
  });
});
