import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { createPool } from '../../../src/index.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';

describe('OpenTelemetry spans on PostgreSQL', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(contextManager.enable()));
  after(() => context.disable());

  it('records checkout and statement spans with db attributes, never parameter values, under the caller span', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const name = uniqueName('traced');
    const db = createPool({
      url: POSTGRES_URL,
      name,
      healthCheckIntervalMs: 0,
      // A connection per statement, so each has a checkout span (see the second test).
      multiplex: false,
      metrics: { registry: new Registry() },
      tracing: { tracerProvider: provider },
    });
    const secret = 'value-that-must-not-appear';
    try {
      await provider.getTracer('app').startActiveSpan('request', async (request) => {
        await db.query('SELECT $1::text AS v', [secret]);
        await db.query('select * from no_such_table_for_tracing').catch(() => undefined);
        await db.transaction(async (tx) => {
          await tx.query('UPDATE pg_catalog.pg_class SET relname = relname WHERE false');
        });
        request.end();
      });
    } finally {
      await db.close();
    }
    const spans = exporter.getFinishedSpans();
    await provider.shutdown(); // (clears the in-memory exporter)
    const request = spans.find((s) => s.name === 'request');
    assert.ok(request);
    const statements = spans.filter((s) => s.attributes['db.operation.name'] !== undefined);
    assert.deepEqual(
      statements.map((s) => s.name),
      ['SELECT test', 'SELECT test', 'UPDATE test'],
    );
    for (const span of statements) {
      assert.equal(span.kind, SpanKind.CLIENT);
      assert.equal(span.attributes['db.system'], 'postgresql');
      assert.equal(span.attributes['db.namespace'], 'test');
      assert.equal(span.attributes['server.address'], '127.0.0.1');
      assert.equal(span.attributes['server.port'], 5432);
      assert.equal(span.parentSpanContext?.spanId, request.spanContext().spanId, 'child of the caller span');
    }
    assert.equal(statements[1]?.status.code, SpanStatusCode.ERROR);
    assert.equal(typeof statements[1]?.attributes['error.type'], 'string');
    const checkouts = spans.filter((s) => s.name === `checkout ${name}`);
    assert.equal(checkouts.length, 3, 'one per borrowed connection');
    assert.equal(checkouts[0]?.attributes['db.client.connection.pool.name'], name);
    assert.doesNotMatch(JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events])), new RegExp(secret));
  });

  it('is a no-op without an SDK, and follows an SDK registered globally after the pool was created', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('global');
    // A connection per statement, so every statement has a checkout span (a shared statement has none:
    // its wait for room is inside its statement span).
    const db = createPool({ url: POSTGRES_URL, name, healthCheckIntervalMs: 0, multiplex: false, metrics: { registry: new Registry() } });
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    try {
      assert.equal((await db.query('SELECT 1 AS one')).rows[0]?.one, 1);
      trace.setGlobalTracerProvider(provider);
      // The registration is noticed within 64 calls (the global lookup is not repeated on every call).
      for (let i = 0; i < 64; i++) await db.query('DELETE FROM pg_catalog.pg_class WHERE false');
      const spans = exporter.getFinishedSpans();
      assert.ok(spans.length > 0, 'statements after registration are traced');
      assert.ok(spans.some((s) => s.name === 'DELETE test'));
      assert.ok(spans.some((s) => s.name === `checkout ${name}`));
      assert.ok(!spans.some((s) => s.name === 'SELECT test'), 'the statement before registration is not');
    } finally {
      trace.disable();
      await db.close();
      await provider.shutdown();
    }
  });
});
