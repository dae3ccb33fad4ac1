import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createHandler } from '../../src/http/index.js';
import { createPool } from '../../src/index.js';
import { CONTRACT_METRICS, isContractSeries, metricsIn } from '../support/contract-metrics.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../support/databases.js';
import { json } from '../support/json.js';
import { freeLoopbackPort } from '../support/ports.js';

const RULES = resolve('deploy/prometheus-rules.yml');
const DASHBOARD = resolve('deploy/grafana-dashboard.json');
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';

/** Prometheus is a Debian package (.ci/run installs it); without CI a missing binary skips with the reason. */
function requireBinary(t: TestContext, path: string): boolean {
  if (existsSync(path)) return true;
  if (process.env.CI) throw new Error(`CI is set but ${path} is missing (apt-get install prometheus)`);
  t.skip(`${path} is not installed`);
  return false;
}

describe('deploy/: Prometheus rules and Grafana dashboard', () => {
  it('the alert rules pass promtool and mirror every built-in alert', (t) => {
    if (!requireBinary(t, PROMTOOL)) return;
    const result = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const text = readFileSync(RULES, 'utf8');
    for (const type of [
      'database_unhealthy',
      'circuit_open',
      'query_failure_rate',
      'connection_leak',
      'pool_usage_high',
      'slow_queries',
      'slow_checkouts',
    ]) {
      assert.match(text, new RegExp(`spillway_alert: ${type}\\b`), type);
    }
    const exprs = [...text.matchAll(/expr:([\s\S]*?)\n\s+(?:for|labels):/g)].map((m) => m[1] as string);
    assert.equal(exprs.length, 7);
    for (const name of exprs.flatMap(metricsIn)) assert.ok(isContractSeries(name), `rules use unknown metric ${name}`);
  });

  it('the dashboard is valid JSON whose queries use only contract metrics, and all of them', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((target) => target.expr));
    const used = new Set(exprs.flatMap(metricsIn));
    for (const name of used) assert.ok(isContractSeries(name), `dashboard uses unknown metric ${name}`);
    for (const metric of CONTRACT_METRICS) {
      assert.ok(
        [...used].some((name) => name === metric || name.replace(/_(bucket|sum|count)$/, '') === metric),
        `dashboard shows ${metric}`,
      );
    }
    assert.ok(dashboard.templating.list.some((v: { name: string }) => v.name === 'pool'));
  });

  it('a real Prometheus scrapes /metrics and receives the pool series (rules loaded)', async (t) => {
    if (!requireBinary(t, PROMETHEUS)) return;
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const name = uniqueName('scraped');
    const db = createPool({ url: POSTGRES_URL, name, healthCheckIntervalMs: 0, metrics: { registry: new Registry() } });
    const server = http.createServer(createHandler({ pool: db }));
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'spillway-prom-'));
    let prometheus: ChildProcess | undefined;
    try {
      await db.query('SELECT 1');
      const config = join(dir, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${RULES}`,
          'scrape_configs:',
          '  - job_name: spillway',
          '    static_configs:',
          `      - targets: ['${target}']`,
          '',
        ].join('\n'),
      );
      const port = await freeLoopbackPort();
      const output: string[] = [];
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout?.on('data', (d) => output.push(String(d)));
      prometheus.stderr?.on('data', (d) => output.push(String(d)));
      const api = `http://127.0.0.1:${port}/api/v1`;
      const query = encodeURIComponent(`db_client_connection_max{pool_name="${name}"}`);
      let series: { metric: Record<string, string>; value: [number, string] }[] = [];
      for (let i = 0; i < 150 && series.length === 0; i++) {
        await sleep(200);
        if (prometheus.exitCode !== null) assert.fail(`prometheus exited: ${output.join('')}`);
        try {
          series = (await json(await fetch(`${api}/query?query=${query}`))).data?.result ?? [];
        } catch {
          // not listening yet
        }
      }
      assert.equal(series.length, 1, `series arrived (${output.join('')})`);
      assert.equal(series[0]?.value[1], '20');
      assert.equal(series[0]?.metric.job, 'spillway');
      const count = await json(
        await fetch(`${api}/query?query=${encodeURIComponent(`db_client_operation_duration_seconds_count{pool_name="${name}"}`)}`),
      );
      assert.equal(count.data.result[0]?.value[1], '1');
      const rules = await json(await fetch(`${api}/rules`));
      const names = rules.data.groups.flatMap((g: { rules: { name: string }[] }) => g.rules.map((r) => r.name));
      assert.ok(names.includes('SpillwayCircuitOpen') && names.length === 7, JSON.stringify(names));
    } finally {
      if (prometheus !== undefined && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus?.once('exit', r));
        prometheus.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
      }
      server.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
