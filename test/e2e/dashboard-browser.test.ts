import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { Session } from '../../src/index.js';
import { startService } from '../../src/service/start-service.js';
import { ChaosProxy } from '../support/chaos-proxy.js';
import { openBrowserPage, screenshotIfAsked } from '../support/chromium.js';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { startInProcessService, startServiceOn } from '../support/in-process-service.js';
import { eventually } from '../support/pool-fixtures.js';
import { createScratchDatabase } from '../support/scratch-database.js';

// Browser code is passed as strings: this file is compiled for Node, without the DOM's types.

/**
 * Wait until the page has polled `polls` more times (the "updated" line changes once per poll). Read
 * from here, not with waitForFunction: that evaluates a string in the page, which its CSP forbids.
 */
async function waitForPolls(page: Page, polls: number): Promise<void> {
  const updated = page.locator('#updated');
  for (let i = 0; i < polls; i++) {
    const before = await updated.textContent();
    const giveUpAt = Date.now() + 15_000;
    for (;;) {
      const now = (await updated.textContent()) ?? '';
      if (now.startsWith('updated') && now !== before) break;
      if (Date.now() > giveUpAt) throw new Error(`the page did not poll (last: ${now})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Pixels drawn on each chart's canvas: axes, grid and lines, not a blank box. */
async function paintedCharts(page: Page): Promise<{ id: string; painted: number }[]> {
  return (await page.evaluate(`[...document.querySelectorAll('section.chart')].map((section) => {
    const canvas = section.querySelector('canvas');
    if (canvas === null || canvas.width === 0 || canvas.height === 0) return { id: section.id, painted: 0 };
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return { id: section.id, painted };
  })`)) as { id: string; painted: number }[];
}

/** The newest point of each series of a chart (from the page's uPlot instances). */
async function lastPoint(page: Page, chart: string): Promise<(number | null)[]> {
  return (await page.evaluate(`spillwayDashboard.charts[${JSON.stringify(chart)}].data.slice(1).map((series) => series.at(-1))`)) as (
    | number
    | null
  )[];
}

describe('the dashboard in a real browser (Chromium)', () => {
  it('idle: loads without console errors, every chart draws, health checks are not checkout waits, the breaker axis has three named ticks; saturated: an alert shows', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const browser = await openBrowserPage(t);
    if (browser === undefined) return;
    const { page, consoleErrors } = browser;
    // A small pool with fast health checks, so holding two connections saturates it within seconds.
    const service = await startInProcessService(t, POSTGRES_URL, {
      DB_POOL_SIZE: '2',
      DB_MAX_OVERFLOW: '0',
      DB_POOL_TIMEOUT: '1',
      DB_HEALTH_CHECK_INTERVAL: '1',
    });
    const held: Session[] = [];
    t.after(() => {
      for (const session of held) session.release();
    });

    const response = await page.goto(`${service.url}/dashboard`);
    assert.equal(response?.status(), 200);
    await waitForPolls(page, 4);
    assert.deepEqual(consoleErrors, []);
    assert.match((await page.locator('#status').textContent()) ?? '', /^(healthy|degraded)$/); // degraded if this machine is slow
    assert.equal(await page.locator('#circuit').textContent(), 'closed');
    assert.equal(await page.locator('#token-banner').isVisible(), false);

    const drawn = await paintedCharts(page);
    assert.deepEqual(
      drawn.map((c) => c.id),
      ['chart-connections', 'chart-throughput', 'chart-waiting', 'chart-checkout', 'chart-query', 'chart-errors', 'chart-circuit'],
    );
    for (const chart of drawn) assert.ok(chart.painted > 500, `${chart.id} has ${chart.painted} painted pixels`);
    assert.equal(await page.locator('#alerts li.alert').count(), 0);
    // The pools table lists every pool the database owns (here PostgreSQL's one primary pool).
    const poolRows = page.locator('#pools tbody tr');
    assert.equal(await poolRows.count(), service.db.pools.length);
    assert.equal(await poolRows.first().getAttribute('data-role'), 'primary');
    assert.equal(await poolRows.first().locator('td').first().textContent(), service.db.name);

    // Idle but for the health checks (one a second): they borrow, yet the checkout waits the chart
    // draws (start-up's, within the window) gain none of theirs.
    const observability = service.db.observability!;
    const waitsBefore = observability.performance().checkoutWaitMs.count;
    const checksBefore = observability.health.counts().success ?? 0;
    await eventually(() => (observability.health.counts().success ?? 0) >= checksBefore + 3, 20_000, 'three more health checks');
    assert.equal(observability.performance().checkoutWaitMs.count, waitsBefore, 'health checks are not checkout waits');
    // The breaker's axis: its three states, named, never 0.5 or 1.5.
    assert.deepEqual(await page.evaluate('spillwayDashboard.charts.circuit.axes[1]._values'), ['closed', 'half-open', 'open']);
    // Connections and waiters are counted in whole numbers, and so are their axes (the pool of 2 drew 0.5, 1.5).
    for (const chart of ['connections', 'waiting']) {
      const ticks = (await page.evaluate(`spillwayDashboard.charts.${chart}.axes[1]._values`)) as string[];
      assert.ok(ticks.length >= 2 && ticks.every((tick) => /^\d+$/.test(tick)), `${chart} axis: ${ticks.join(' ')}`);
    }
    await screenshotIfAsked(page, 'dashboard-idle.png');

    // Saturate the pool: the test holds every connection, so utilization stays at 100%.
    held.push(await service.db.acquire(), await service.db.acquire());
    const alert = page.locator('#alerts li.alert[data-type="pool_usage_high"]');
    await alert.first().waitFor({ timeout: 20_000 });
    assert.match((await alert.first().textContent()) ?? '', /warning pool_usage_high/);
    assert.equal(await page.locator('#status').textContent(), 'degraded');
    assert.match((await page.locator('#utilization').textContent()) ?? '', /^100%$/);
  });

  it('under load on SQLite (utilization stays near 0%): the throughput chart shows statements/s and checkouts/s', async (t) => {
    const browser = await openBrowserPage(t);
    if (browser === undefined) return;
    const { page, consoleErrors } = browser;
    const service = await startServiceOn(t, 'sqlite', { DB_HEALTH_CHECK_INTERVAL: '5' });
    if (service === undefined) return;
    await page.goto(`${service.url}/dashboard`);
    await waitForPolls(page, 2);
    assert.equal(await page.locator('#throughput-now').textContent(), '0.0 statements/s, 0.0 checkouts/s', 'idle: nothing runs');

    // Closed-loop callers until the page has seen a few seconds of it.
    let running = true;
    const callers = Array.from({ length: 16 }, async () => {
      while (running) await (await fetch(`${service.url}/api/books?limit=20`)).arrayBuffer();
    });
    try {
      await waitForPolls(page, 4);
      const [statements, checkouts] = await lastPoint(page, 'throughput');
      assert.ok((statements ?? 0) > 1, `statements/s: ${statements}`);
      assert.ok((checkouts ?? 0) > 1, `checkouts/s: ${checkouts}`);
      assert.match((await page.locator('#throughput-now').textContent()) ?? '', /^[\d.]+ statements\/s, [\d.]+ checkouts\/s$/);
      const throughput = (await paintedCharts(page)).find((c) => c.id === 'chart-throughput');
      assert.ok((throughput?.painted ?? 0) > 500);
      await screenshotIfAsked(page, 'dashboard-load.png');
    } finally {
      running = false;
      await Promise.all(callers);
    }
    assert.deepEqual(consoleErrors, []);
  });

  it('with a token: a banner says "token required" without one and "token refused" for a wrong one, instead of "?" badges and "Alerts: none"', async (t) => {
    const browser = await openBrowserPage(t);
    if (browser === undefined) return;
    const { page } = browser;
    const service = await startServiceOn(t, 'sqlite', { DB_HEALTH_CHECK_INTERVAL: '0', SPILLWAY_TOKEN: 'right-token' });
    if (service === undefined) return;
    const banner = page.locator('#token-banner');

    await page.goto(`${service.url}/dashboard`);
    await waitForPolls(page, 1);
    assert.equal(await banner.isVisible(), true);
    assert.match((await banner.textContent()) ?? '', /^Token required: .*#token=/);
    assert.equal(await page.locator('#status').textContent(), 'token required');
    assert.equal(await page.locator('#alerts').textContent(), 'unknown (token required)', 'never "none" when the alerts cannot be read');
    assert.match((await page.locator('#utilization').textContent()) ?? '', /^\d+%$/, '/health/pool needs no token');

    await page.goto(`${service.url}/dashboard#token=wrong-token`);
    await page.reload(); // a new fragment alone does not reload the page
    await waitForPolls(page, 1);
    assert.match((await banner.textContent()) ?? '', /^Token refused: /);
    assert.equal(await page.locator('#status').textContent(), 'token refused');

    await page.goto(`${service.url}/dashboard#token=right-token`);
    await page.reload();
    await waitForPolls(page, 2);
    assert.equal(await banner.isVisible(), false);
    assert.match((await page.locator('#status').textContent()) ?? '', /^(healthy|degraded)$/);
    assert.equal(await page.locator('#alerts').textContent(), 'none');
  });

  it('database down: unhealthy, breaker open, and circuit_open listed once while the breaker keeps probing', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const browser = await openBrowserPage(t);
    if (browser === undefined) return;
    const { page } = browser;
    const database = await createScratchDatabase(POSTGRES_URL);
    t.after(() => database.drop());
    const proxy = new ChaosProxy({ host: new URL(POSTGRES_URL).hostname, port: Number(new URL(POSTGRES_URL).port) });
    await proxy.start();
    t.after(() => proxy.close());
    const service = await startService({
      env: {
        DATABASE_URL: proxy.url(database.url),
        DB_HEALTH_CHECK_INTERVAL: '1',
        DB_CIRCUIT_FAILURE_THRESHOLD: '2',
        DB_CIRCUIT_RECOVERY_TIMEOUT: '2',
        DB_CONNECT_TIMEOUT: '1',
        DB_POOL_TIMEOUT: '2',
      },
      port: 0,
      host: '127.0.0.1',
      log: () => undefined,
    });
    t.after(() => service.stop());
    await page.goto(`${service.url}/dashboard`);
    await waitForPolls(page, 2);

    // The database goes away: connections are cut and new ones refused.
    await proxy.close();
    for (let i = 0; i < 4; i++) await fetch(`${service.url}/api/users?limit=1`);
    await page.locator('#circuit.badge.open').waitFor({ timeout: 20_000 });
    // The breaker's probes take it to half-open and back to open: the alert resolves and comes back
    // within its cooldown, one active alert with a newer time than the one fired. Both used to be listed.
    await eventually(
      () => {
        const alerts = service.db.observability?.alerts;
        const active = alerts?.active().find((a) => a.type === 'circuit_open');
        const fired = alerts?.recent().find((a) => a.type === 'circuit_open');
        return active !== undefined && fired !== undefined && active.at !== fired.at;
      },
      30_000,
      'circuit_open to come back after a probe',
    );
    await waitForPolls(page, 2);
    assert.equal(await page.locator('#status').textContent(), 'unhealthy');
    assert.equal(await page.locator('#alerts li.alert[data-type="circuit_open"]').count(), 1);
    assert.equal(await page.locator('#alerts li.alert[data-type="database_unhealthy"]').count(), 1);
    assert.match((await page.locator('#alerts li.alert').first().textContent()) ?? '', /^critical /, 'critical alerts first');
    await screenshotIfAsked(page, 'dashboard-database-down.png');
  });
});
