import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createHandler } from '../../src/http/index.js';
import { createPool } from '../../src/index.js';
import { startServiceOn } from '../support/in-process-service.js';

async function call(url: string, method = 'GET', body?: unknown) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    allow: response.headers.get('allow'),
    type: response.headers.get('content-type') ?? '',
    body: JSON.parse(text),
  };
}

describe('one JSON error shape, { error, code }, for every miss', () => {
  it('the reference service: 404 for unknown paths, 405 with Allow for known paths, and DB errors without table or constraint names', async (t) => {
    const service = await startServiceOn(t, 'sqlite', { DB_HEALTH_CHECK_INTERVAL: '0' });
    if (service === undefined) return;
    const notFound = await call(`${service.url}/nope`);
    assert.equal(notFound.status, 404);
    assert.match(notFound.type, /^application\/json/);
    assert.deepEqual(notFound.body, { error: 'not found', code: 'NOT_FOUND' });

    for (const [method, path, allow] of [
      ['DELETE', '/api/users', 'GET, HEAD, POST'],
      ['PUT', '/api/users/alice_smith', 'GET, HEAD'],
      ['POST', '/health', 'GET, HEAD'], // a route of spillway/fastify
      ['POST', '/dashboard', 'GET, HEAD'],
      ['GET', '/api/books/batch', 'POST'],
    ] as const) {
      const response = await call(`${service.url}${path}`, method);
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.allow, allow, `${method} ${path}`);
      assert.equal(response.body.code, 'METHOD_NOT_ALLOWED');
      assert.equal(typeof response.body.error, 'string');
    }

    const missingUser = await call(`${service.url}/api/users/nobody_here`);
    assert.deepEqual(missingUser.body, { error: 'no user named nobody_here', code: 'NOT_FOUND' });

    // A foreign key violation: the driver says "FOREIGN KEY constraint failed" (PostgreSQL names the
    // constraint and the table); the client is told what happened, not how the schema is built.
    const orphan = await call(`${service.url}/api/books/batch`, 'POST', { books: [{ authorId: 999_999, title: 'Nobody wrote this' }] });
    assert.equal(orphan.status, 422);
    assert.deepEqual(orphan.body, { error: 'a referenced record does not exist', code: 'UNKNOWN_REFERENCE' });
    const taken = await call(`${service.url}/api/users`, 'POST', { username: 'alice_smith', email: 'a@example.com', fullName: 'A' });
    assert.deepEqual(taken.body, { error: 'username alice_smith is taken', code: 'CONFLICT' });
  });

  it('spillway/http createHandler: 404 and 405 (with Allow) in the same shape', async (t) => {
    const db = createPool({ url: 'sqlite::memory:', env: {}, healthCheckIntervalMs: 0 });
    const server = http.createServer(createHandler({ pool: db, prefix: '/ops', token: 'secret' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      await new Promise((resolve) => server.close(resolve));
      await db.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.deepEqual((await call(`${base}/ops/nope`)).body, { error: 'not found', code: 'NOT_FOUND' });
    const post = await call(`${base}/ops/health`, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.allow, 'GET, HEAD');
    assert.equal(post.body.code, 'METHOD_NOT_ALLOWED');
    const unknownPool = await call(`${base}/ops/health/pool?pool=missing`);
    assert.equal(unknownPool.status, 404);
    assert.equal(unknownPool.body.code, 'NOT_FOUND');
    // A missing and a wrong token are told apart (the dashboard says which), with the same status.
    const missing = await call(`${base}/ops/health/detailed`);
    assert.deepEqual([missing.status, missing.body.code], [401, 'TOKEN_REQUIRED']);
    const refused = await fetch(`${base}/ops/health/detailed`, { headers: { authorization: 'Bearer wrong' } });
    assert.deepEqual([refused.status, ((await refused.json()) as { code: string }).code], [401, 'TOKEN_REFUSED']);
  });
});
