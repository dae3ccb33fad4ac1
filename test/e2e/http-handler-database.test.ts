import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { spillwayPlugin } from '../../src/http/fastify.js';
import { createHandler } from '../../src/http/index.js';
import { createPool, type Database } from '../../src/index.js';
import { json } from '../support/json.js';

const PATHS = [
  '/health',
  '/health/database',
  '/health/pool',
  '/health/detailed',
  '/metrics',
  '/metrics/database/pool',
  '/metrics/database/health',
  '/metrics/database/config',
  '/metrics/performance/summary',
];

function memoryDb(name: string): Database {
  return createPool({ url: 'sqlite::memory:', name, healthCheckIntervalMs: 0, metrics: { registry: new Registry() }, env: {} });
}

async function statuses(base: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const path of PATHS) out[path] = (await fetch(`${base}${path}`)).status;
  return out;
}

const allOk = Object.fromEntries(PATHS.map((p) => [p, 200]));

// What a user types first is the database itself, not `{ pool: db }`: every endpoint must answer, and
// options that are neither fail when the handler is created (CONFIG_INVALID), never per request.
describe('createHandler and the Fastify plugin given a Database directly', () => {
  it('createHandler(db) serves every endpoint', async () => {
    const db = memoryDb('direct-node');
    const server = http.createServer(createHandler(db));
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      assert.deepEqual(await statuses(base), allOk);
      assert.equal((await json(await fetch(`${base}/health/pool`))).name, 'direct-node');
    } finally {
      server.close();
      await db.close();
    }
  });

  it('the Fastify plugin registered with the database serves every endpoint', async () => {
    const db = memoryDb('direct-fastify');
    const app = Fastify();
    await app.register(spillwayPlugin, db as never);
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      assert.deepEqual(await statuses(base), allOk);
    } finally {
      await app.close();
      await db.close();
    }
  });

  it('anything else is refused at creation with CONFIG_INVALID', async () => {
    const db = memoryDb('refused');
    try {
      const bads: [string, unknown][] = [
        ['undefined', undefined],
        ['{}', {}],
        ['{ pool: {} }', { pool: {} }],
        ['{ pools: [db, { name }] }', { pools: [db, { name: 'x' }] }],
        ["{ pool: db, pools: 'nope' }", { pool: db, pools: 'nope' }],
      ];
      for (const [label, bad] of bads) {
        assert.throws(() => createHandler(bad as never), { code: 'CONFIG_INVALID' }, label);
        const app = Fastify();
        await assert.rejects(
          (async () => {
            await app.register(spillwayPlugin, bad as never);
            await app.ready();
          })(),
          { code: 'CONFIG_INVALID' },
          label,
        );
        await app.close().catch(() => undefined);
      }
      assert.throws(() => createHandler(42 as never), { code: 'CONFIG_INVALID' });
    } finally {
      await db.close();
    }
  });
});
