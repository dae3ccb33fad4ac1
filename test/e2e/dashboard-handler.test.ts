import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createHandler } from '../../src/http/index.js';
import { createPool } from '../../src/index.js';

test('spillway/http serves the dashboard by default under its prefix: one page, nothing fetched from elsewhere', async (t) => {
  const db = createPool({ url: 'sqlite::memory:', env: {} });
  const server = http.createServer(createHandler({ pool: db, prefix: '/ops' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const page = await fetch(`${base}/ops/dashboard`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /connect-src 'self'/);
  // Never framed by another page (clickjacking): CSP for today's browsers, X-Frame-Options for older ones.
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const html = await page.text();
  assert.match(html, /uPlot/);
  assert.doesNotMatch(html, /\/\*(UPLOT|DASHBOARD)_(JS|CSS)\*\//, 'every placeholder is filled');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="http/);
  // The page asks for its data relative to itself, so /ops/dashboard reads /ops/health/pool.
  assert.match(html, /getJson\('health\/pool'\)/);
  assert.equal((await fetch(`${base}/ops/health/pool`)).status, 200);
  assert.equal((await fetch(`${base}/dashboard`)).status, 404, 'outside the prefix nothing is served');
});
