/**
 * What instrumentation costs: SELECT 1 throughput through Spillway at 100 concurrent callers on the
 * local PostgreSQL (pool of 10), with everything on (every metric and histogram into a registry scraped
 * once a second, percentile windows, tracing through the OpenTelemetry API without an SDK, leak
 * tracking, a health check every second) against the same pool with instrumentation off. Target: the
 * instrumented pool within 5% of the bare one. Medians of interleaved runs and of the per-round ratios
 * (each round runs both back to back, so drift on a shared machine hits both); p99 latency per call.
 * Then the same comparison without I/O (an in-memory connection answering at once), which isolates the
 * CPU the instrumentation itself adds per statement from the noise of the database round trip.
 *
 * Run: npx tsx bench/observability-overhead.ts [--seconds 3] [--rounds 7] [--callers 100] [--url ...] [--json]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { resolveConfig } from '../dist/config/resolve-config.js';
import { openDatabase } from '../dist/create-pool.js';
import type { Dialect } from '../dist/dialect/dialect.js';
import { createPool, type PoolOptions } from '../dist/index.js';
import { closedLoop, fakeConnector, interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '7' },
    callers: { type: 'string', default: '100' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
    'memory-queries': { type: 'string', default: '300000' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CALLERS = Number(args.callers);
const SIZE = 10;

const CONFIGS: Record<string, () => { options: PoolOptions; registry: Registry | undefined }> = {
  'instrumentation off': () => ({
    options: { metrics: false, tracing: false, healthCheckIntervalMs: 0, leakThresholdMs: 0 },
    registry: undefined,
  }),
  'everything on': () => {
    const registry = new Registry();
    return {
      options: { metrics: { registry }, tracing: true, healthCheckIntervalMs: 1000, leakThresholdMs: 60_000 },
      registry,
    };
  },
};

interface Sample {
  qps: number;
  p99Ms: number;
  /** CPU time this process spent per statement (user + system): less sensitive to a busy machine than q/s. */
  cpuUsPerQuery: number;
}

async function run(name: string): Promise<Sample> {
  const { options, registry } = (CONFIGS[name] as () => { options: PoolOptions; registry: Registry | undefined })();
  // One statement per connection, as when issue 5's figures were taken: the checkout events it observes stay the same.
  const db = createPool({ url: args.url, name: 'bench', size: SIZE, maxOverflow: 0, multiplex: false, env: {}, ...options });
  // A scraper, as Prometheus would be (more often than the usual 15 s).
  const scraper = registry === undefined ? undefined : setInterval(() => void registry.metrics(), 1000);
  const sample = await closedLoop(
    {
      query: () => db.query('SELECT 1'),
      close: async () => {
        if (scraper !== undefined) clearInterval(scraper);
        await db.close();
      },
    },
    CALLERS,
    SECONDS,
  );
  return { qps: sample.qps, p99Ms: sample.p99Ms, cpuUsPerQuery: sample.cpuUs };
}

/** CPU ns per statement through Database.query with an in-memory connection: the library's own cost. */
async function memoryRun(name: string): Promise<number> {
  const { options } = (CONFIGS[name] as () => { options: PoolOptions })();
  const config = resolveConfig({
    url: 'postgres://bench@127.0.0.1/bench',
    name: 'bench-memory',
    size: SIZE,
    maxOverflow: 0,
    env: {},
    ...options,
  });
  const connector = fakeConnector;
  const dialect = {
    name: 'postgres',
    connector,
    server: { address: '127.0.0.1', port: 5432, database: 'bench' },
    query: async () => ({ rows: [], rowCount: 0 }),
  } as unknown as Dialect;
  // No breaker, leak detection at the config's setting: the library's own cost around one statement.
  const db = openDatabase(config, dialect, { circuitBreaker: false });
  db.pool.start();
  const total = Number(args['memory-queries']);
  let left = total / 10;
  const loop = async (): Promise<void> => {
    while (left-- > 0) await db.query('SELECT 1');
  };
  await Promise.all(Array.from({ length: CALLERS }, loop)); // warm up (JIT)
  left = total;
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CALLERS }, loop));
  const used = process.cpuUsage(cpu);
  await db.close();
  return ((used.user + used.system) * 1000) / total;
}

const names = Object.keys(CONFIGS);
const results = await interleaved(ROUNDS, names, (name) => run(name));
const memory = await interleaved(5, names, (name) => memoryRun(name));
const offRuns = results.get(names[0] as string) as Sample[];
const rows = names.map((name) => {
  const samples = results.get(name) as Sample[];
  return {
    name,
    qps: median(samples.map((s) => s.qps)),
    roundRatio: median(samples.map((s, i) => s.qps / (offRuns[i] as Sample).qps)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    cpuUsPerQuery: median(samples.map((s) => s.cpuUsPerQuery)),
    memoryNsPerQuery: median(memory.get(name) as number[]),
    runs: samples.map((s) => Math.round(s.qps)),
  };
});
const base = rows[0] as (typeof rows)[number];
if (args.json) {
  console.log(JSON.stringify({ bench: 'observability-overhead', machine: machineLine(), callers: CALLERS, rows }));
} else {
  console.log(
    `SELECT 1 on PostgreSQL, pool of ${SIZE}, ${CALLERS} callers, ${SECONDS}s per run, ${ROUNDS} interleaved rounds (medians); ${machineLine()}; load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    '| configuration | q/s | ÷ off (medians) | ÷ off (median per round) | p99 ms | CPU µs per query | no I/O: CPU ns per query | q/s per run |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${row.qps.toFixed(0)} | ${(row.qps / base.qps).toFixed(3)} | ${row.roundRatio.toFixed(3)} | ${row.p99Ms.toFixed(1)} | ${row.cpuUsPerQuery.toFixed(1)} | ${row.memoryNsPerQuery.toFixed(0)} | ${row.runs.join(', ')} |`,
    );
  }
}
