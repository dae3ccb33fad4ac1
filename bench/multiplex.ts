/**
 * Multiplexing benchmark: Spillway (plain statements pipelined over shared connections) against
 * postgres.js, pg.Pool and a raw ceiling (10 dedicated pg.Client loops, one statement at a time each),
 * all with 10 connections, side by side in one run. Peers are interleaved (each round runs every peer
 * once per scenario, alternating the order) and the medians of the rounds are reported.
 *
 *   node --import tsx bench/multiplex.ts [--seconds 2] [--rounds 3] [--url postgres://...] [--before DIR]
 *
 * Prints a Markdown table (queries per second, p50/p99 latency in ms, this process's CPU time per query,
 * and the ratios the issue sets). `--only "<scenario name>"` runs one scenario (SELECT 1, single-row
 * select, 100-row select, 90/10 read/write). `--before DIR` adds "spillway (before)": the default pool
 * of another build of Spillway (a dist/ directory), for a before/after comparison in one run.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { createPool } from '../dist/index.js';
import { interleaved, machineLine, median, percentile } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    url: { type: 'string', default: process.env.SPILLWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    only: { type: 'string' },
    before: { type: 'string' },
  },
});
const URL = args.url as string;
const RUN_MS = Number(args.seconds) * 1000;
const WARM_MS = 300;
const ROUNDS = Number(args.rounds);
const CONNECTIONS = 10;
const TABLE = `bench_mux_${process.pid}`;
const ROWS = 10_000;

/** `loop` is the caller's index: the raw ceiling gives each loop its own client. */
type Query = (text: string, values: unknown[], loop: number) => Promise<unknown>;
interface Peer {
  name: string;
  /** Open the peer's connections; returns the query function and a closer. */
  open(): Promise<{ query: Query; close(): Promise<void> }>;
  /** Runs its own fixed loops rather than `callers` (the raw ceiling). */
  fixedLoops?: number;
}

/** Another build of Spillway, by its dist/ directory (`--before`). */
const before =
  args.before === undefined
    ? undefined
    : ((await import(pathToFileURL(`${resolve(args.before)}/index.js`).href)) as { createPool: typeof createPool });

const PEERS: Peer[] = [
  {
    name: 'spillway',
    async open() {
      const db = createPool({ url: URL, name: 'bench_mux', size: CONNECTIONS, maxOverflow: 0, multiplex: true, env: {} });
      return { query: (text, values) => db.query(text, values), close: () => db.close() };
    },
  },
  ...(before === undefined
    ? []
    : [
        {
          name: 'spillway (before)',
          async open() {
            // Its own registry: two builds' metrics would collide in prom-client's default one.
            const db = before.createPool({
              url: URL,
              name: 'bench_mux_before',
              size: CONNECTIONS,
              maxOverflow: 0,
              multiplex: true,
              metrics: { registry: new Registry() },
              env: {},
            });
            return { query: (text: string, values: unknown[]) => db.query(text, values), close: () => db.close() };
          },
        },
      ]),
  {
    name: 'spillway (multiplex off)',
    async open() {
      const db = createPool({ url: URL, name: 'bench_mux_off', size: CONNECTIONS, maxOverflow: 0, multiplex: false, env: {} });
      return { query: (text, values) => db.query(text, values), close: () => db.close() };
    },
  },
  {
    name: 'postgres.js',
    async open() {
      const sql = postgres(URL, { max: CONNECTIONS, onnotice: () => undefined });
      return { query: (text, values) => sql.unsafe(text, values as never[], { prepare: true }), close: () => sql.end() };
    },
  },
  {
    name: 'pg.Pool',
    async open() {
      const pool = new pg.Pool({ connectionString: URL, max: CONNECTIONS });
      return { query: (text, values) => pool.query(text, values), close: () => pool.end() };
    },
  },
  {
    name: 'raw ceiling',
    fixedLoops: CONNECTIONS,
    async open() {
      const clients = await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          const client = new pg.Client({ connectionString: URL });
          await client.connect();
          return client;
        }),
      );
      return {
        query: (text, values, loop) => (clients[loop] as pg.Client).query(text, values),
        close: async () => {
          await Promise.all(clients.map((c) => c.end()));
        },
      };
    },
  },
];

interface Scenario {
  name: string;
  callers: number[];
  peers: string[];
  statement(): { text: string; values: unknown[] };
}

const randomId = () => 1 + Math.floor(Math.random() * ROWS);
const ALL = PEERS.map((p) => p.name);
const SCENARIOS: Scenario[] = [
  { name: 'SELECT 1', callers: [10, 100, 1000], peers: ALL, statement: () => ({ text: 'SELECT 1', values: [] }) },
  {
    name: 'single-row select',
    callers: [10, 100, 1000],
    peers: ALL,
    statement: () => ({ text: `SELECT id, name, score FROM ${TABLE} WHERE id = $1`, values: [randomId()] }),
  },
  {
    name: '100-row select',
    callers: [100],
    peers: ALL,
    statement: () => ({
      text: `SELECT id, name, score FROM ${TABLE} WHERE id > $1 ORDER BY id LIMIT 100`,
      values: [randomId() % (ROWS - 100)],
    }),
  },
  {
    name: '90/10 read/write',
    callers: [100],
    peers: ALL,
    statement: () =>
      Math.random() < 0.9
        ? { text: `SELECT id, name, score FROM ${TABLE} WHERE id = $1`, values: [randomId()] }
        : { text: `UPDATE ${TABLE} SET score = score + 1 WHERE id = $1`, values: [randomId()] },
  },
];

interface Sample {
  qps: number;
  p50: number;
  p99: number;
  /** This process's CPU time (user + system) per query, µs: what the client spends, whatever else loads the machine. */
  cpuUs: number;
}

async function measure(peer: Peer, scenario: Scenario, callers: number): Promise<Sample> {
  const { query, close } = await peer.open();
  const loops = peer.fixedLoops ?? callers;
  const latencies: number[] = [];
  let count = 0;
  let recording = false;
  let cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const end = started + WARM_MS + RUN_MS;
  try {
    const runLoop = async (_: unknown, loop: number): Promise<void> => {
      while (true) {
        const now = performance.now();
        if (now >= end) return;
        if (!recording && now - started >= WARM_MS) {
          recording = true;
          latencies.length = 0;
          count = 0;
          cpuAtStart = process.cpuUsage();
        }
        const { text, values } = scenario.statement();
        const t0 = performance.now();
        await query(text, values, loop);
        latencies.push(performance.now() - t0);
        count++;
      }
    };
    await Promise.all(Array.from({ length: loops }, runLoop));
  } finally {
    await close();
  }
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    qps: count / (RUN_MS / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    cpuUs: count === 0 ? 0 : (cpu.user + cpu.system) / count,
  };
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  await admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text NOT NULL, score int NOT NULL)`);
  await admin.query(`INSERT INTO ${TABLE} SELECT g, 'name ' || g, g % 100 FROM generate_series(1, ${ROWS}) g`);
  await admin.query(`ANALYZE ${TABLE}`);
  const scenarios = SCENARIOS.filter((s) => args.only === undefined || s.name === args.only);
  const results = new Map<string, Sample[]>();
  try {
    for (const scenario of scenarios) {
      for (const callers of scenario.callers) {
        const peers = PEERS.filter((p) => scenario.peers.includes(p.name));
        const samples = await interleaved(
          ROUNDS,
          peers.map((p) => p.name),
          async (name, round) => {
            const sample = await measure(peers.find((p) => p.name === name) as Peer, scenario, callers);
            process.stderr.write(
              `round ${round + 1} ${scenario.name} ${callers} ${name}: ${Math.round(sample.qps)} q/s p99 ${sample.p99.toFixed(1)} ms\n`,
            );
            return sample;
          },
        );
        for (const [name, list] of samples) results.set(`${scenario.name}|${callers}|${name}`, list);
      }
    }
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.end();
  }

  const lines = [
    `| scenario | callers | peer | q/s (median of ${ROUNDS}) | p50 ms | p99 ms | client CPU µs/query | vs raw ceiling | vs postgres.js | vs pg.Pool |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const scenario of scenarios) {
    for (const callers of scenario.callers) {
      const med = (peer: string) => {
        const samples = results.get(`${scenario.name}|${callers}|${peer}`);
        if (samples === undefined) return undefined;
        return {
          qps: median(samples.map((s) => s.qps)),
          p50: median(samples.map((s) => s.p50)),
          p99: median(samples.map((s) => s.p99)),
          cpuUs: median(samples.map((s) => s.cpuUs)),
        };
      };
      const raw = med('raw ceiling');
      const pgjs = med('postgres.js');
      const pgPool = med('pg.Pool');
      for (const peer of scenario.peers) {
        const m = med(peer);
        if (m === undefined) continue;
        const ratio = (base: Sample | undefined) => (base === undefined ? '' : (m.qps / base.qps).toFixed(2));
        const callersShown = peer === 'raw ceiling' ? `${CONNECTIONS} loops` : String(callers);
        lines.push(
          `| ${scenario.name} | ${callersShown} | ${peer} | ${Math.round(m.qps)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${m.cpuUs.toFixed(1)} | ${ratio(raw)} | ${ratio(pgjs)} | ${ratio(pgPool)} |`,
        );
      }
    }
  }
  console.log(lines.join('\n'));
  console.log(`\nMachine: ${machineLine()}; PostgreSQL on loopback; ${RUN_MS / 1000} s per run after ${WARM_MS} ms warm-up.`);
}

await main();
