import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import type { Session } from '../../src/index.js';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { startInProcessService } from '../support/in-process-service.js';

const CHROMIUM = process.env.SPILLWAY_CHROMIUM ?? '/usr/bin/chromium';
// The flags of DEVELOPERS.md: headless, no sandbox (containers), and nothing that reaches the network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('dashboard in a real browser: loads without console errors, charts draw, an alert shows when the pool is saturated', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI) throw new Error(`CI is set but Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
    t.skip(`Chromium not installed at ${CHROMIUM}`);
    return;
  }
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  // A small pool with fast health checks, so holding two connections saturates it within seconds.
  const service = await startInProcessService(t, POSTGRES_URL, {
    DB_POOL_SIZE: '2',
    DB_MAX_OVERFLOW: '0',
    DB_POOL_TIMEOUT: '1',
    DB_HEALTH_CHECK_INTERVAL: '1',
  });

  const profile = mkdtempSync(join(tmpdir(), 'spillway-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const held: Session[] = [];
  t.after(async () => {
    for (const session of held) session.release();
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));

  const response = await page.goto(`${service.url}/dashboard`);
  assert.equal(response?.status(), 200);
  // Three polls draw three points on every chart.
  await page.waitForFunction("document.getElementById('updated')?.textContent?.startsWith('updated')", undefined, { timeout: 15_000 });
  await page.waitForTimeout(2500);
  assert.deepEqual(consoleErrors, []);
  assert.match((await page.locator('#status').textContent()) ?? '', /^(healthy|degraded)$/); // degraded if this machine is slow
  assert.equal(await page.locator('#circuit').textContent(), 'closed');

  // Every chart has a canvas with pixels drawn on it (axes, grid and lines), not a blank box.
  // (Browser code as a string: this file is compiled for Node, without the DOM's types.)
  const drawn = (await page.evaluate(`[...document.querySelectorAll('section.chart')].map((section) => {
    const canvas = section.querySelector('canvas');
    if (canvas === null || canvas.width === 0 || canvas.height === 0) return { id: section.id, painted: 0 };
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return { id: section.id, painted };
  })`)) as { id: string; painted: number }[];
  assert.equal(drawn.length, 6);
  for (const chart of drawn) assert.ok(chart.painted > 500, `${chart.id} has ${chart.painted} painted pixels`);
  assert.equal(await page.locator('#alerts li.alert').count(), 0);

  // Saturate the pool: the test holds every connection, so utilization stays at 100%.
  held.push(await service.db.acquire(), await service.db.acquire());
  const alert = page.locator('#alerts li.alert[data-type="pool_usage_high"]');
  await alert.first().waitFor({ timeout: 20_000 });
  assert.match((await alert.first().textContent()) ?? '', /warning pool_usage_high/);
  assert.equal(await page.locator('#status').textContent(), 'degraded');
  assert.match((await page.locator('#utilization').textContent()) ?? '', /^100%$/);
});
