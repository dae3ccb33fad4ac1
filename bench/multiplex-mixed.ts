/**
 * Mixed workloads on PostgreSQL (issue 12): fast statements beside slow ones, where a multiplexer that
 * pipelines fast work behind slow work loses to one statement per connection. Pool of 10 for every
 * contender, side by side in one run: pg.Pool (max 10), Spillway with `multiplex: false`, Spillway's
 * default (multiplexed) and postgres.js (max 10); the pure SELECT 1 rows add the raw ceiling (10
 * dedicated pg.Client loops, one statement at a time each). Rounds are interleaved (every contender once
 * per round, the order alternating) and the medians of the rounds are reported.
 *
 *   npm run build && node --import tsx bench/multiplex-mixed.ts [--seconds 3] [--rounds 3] [--warmup 1]
 *       [--filter TEXT] [--contenders a,b] [--before DIR] [--url postgres://...] [--json]
 *
 * `--filter TEXT` runs the mixes whose name contains TEXT (`--filter 300ms`, `--filter SELECT`). The
 * row-lock mix and the same mix without the lock run interleaved together, as one batch, since one is
 * judged against the other.
 * `--before DIR` adds "spillway (before)": the default pool of another build of Spillway (a dist/
 * directory, for a before/after comparison in one run).
 *
 * Fast and slow callers are reported apart: throughput (statements completed per second in the
 * measured window), p50, p99 and p999 latency in ms (of the statements started in the window, even
 * when they finish after it, so a statement stuck behind a slow one still counts). The random mix
 * reports all its calls as one class ("all") and its pg_sleep calls again as "slow". The last table
 * holds the issue's targets against pg.Pool (or postgres.js, or the ceiling) in the same run.
 */
import { readFileSync } from 'node:fs';
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
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    filter: { type: 'string' },
    contenders: { type: 'string' },
    before: { type: 'string' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
  },
});
const URL_ = args.url as string;
const RUN_MS = Number(args.seconds) * 1000;
const WARM_MS = Number(args.warmup) * 1000;
const ROUNDS = Number(args.rounds);
const SIZE = 10;
const TABLE = `bench_mixed_${process.pid}`;
const ROWS = 10_000;
/** The row the lock holder keeps locked (and the blocked caller updates). */
const LOCKED_ID = 1;
const LOCK_HOLD_MS = 2000;

type Query = (text: string, values: unknown[], loop: number) => Promise<unknown>;
interface Opened {
  query: Query;
  close(): Promise<void>;
}
interface Contender {
  name: string;
  open(): Promise<Opened>;
  /** Runs this many loops whatever the scenario asks (the raw ceiling). */
  fixedLoops?: number;
}

/**
 * Spillway with every default on (metrics, leak detection, breaker) but the pool's size. Another build
 * (`--before`) exports into a registry of its own: its metrics would otherwise collide with this
 * build's in prom-client's default registry (the work per statement is the same).
 */
const spillway =
  (create: typeof createPool, multiplex: boolean, name: string, ownRegistry = false): Contender['open'] =>
  async () => {
    const metrics = ownRegistry ? { registry: new Registry() } : true;
    const db = create({ url: URL_, name, size: SIZE, maxOverflow: 0, multiplex, metrics, env: {} });
    return { query: (text, values) => db.query(text, values), close: () => db.close() };
  };

const CONTENDERS: Contender[] = [
  {
    name: 'pg.Pool',
    async open() {
      const pool = new pg.Pool({ connectionString: URL_, max: SIZE });
      return { query: (text, values) => pool.query(text, values), close: () => pool.end() };
    },
  },
  { name: 'spillway (multiplex: false)', open: spillway(createPool, false, 'bench_mixed_off') },
  { name: 'spillway', open: spillway(createPool, true, 'bench_mixed') },
  {
    name: 'postgres.js',
    async open() {
      const sql = postgres(URL_, { max: SIZE, onnotice: () => undefined });
      return { query: (text, values) => sql.unsafe(text, values as never[], { prepare: true }), close: () => sql.end({ timeout: 5 }) };
    },
  },
];
if (args.before !== undefined) {
  const dir = resolve(args.before);
  const before = (await import(pathToFileURL(`${dir}/index.js`).href)) as { createPool: typeof createPool };
  CONTENDERS.splice(3, 0, { name: 'spillway (before)', open: spillway(before.createPool, true, 'bench_mixed_before', true) });
}
const RAW_CEILING: Contender = {
  name: 'raw ceiling',
  fixedLoops: SIZE,
  async open() {
    const clients = await Promise.all(
      Array.from({ length: SIZE }, async () => {
        const client = new pg.Client({ connectionString: URL_ });
        await client.connect();
        return client;
      }),
    );
    return {
      query: (text, values, loop) => (clients[loop % SIZE] as pg.Client).query(text, values),
      close: async () => void (await Promise.all(clients.map((c) => c.end()))),
    };
  },
};

/** One statement to run, and the class it is reported under. */
interface Call {
  text: string;
  values: unknown[];
  cls: 'fast' | 'slow';
}
/** Callers looping on the same kind of call. */
interface Group {
  callers: number;
  next(): Call;
}
interface Scenario {
  name: string;
  groups: Group[];
  /** A transaction on its own connection keeps row LOCKED_ID locked, LOCK_HOLD_MS at a time. */
  lock?: boolean;
  /** The ceiling runs too (pure SELECT 1). */
  ceiling?: boolean;
  /** The random mix: "fast" is every call, "slow" its sleeps. */
  allCalls?: boolean;
  /**
   * Scenarios with the same batch run interleaved together (every contender in each of them, every
   * round): the row-lock mix is judged against the same mix without the lock, so the two must see the
   * same machine.
   */
  batch?: string;
}

const randomId = () => 1 + Math.floor(Math.random() * ROWS);
const SELECT_1: Call = { text: 'SELECT 1', values: [], cls: 'fast' };
const sleeper = (seconds: number): Call => ({ text: `SELECT pg_sleep(${seconds})`, values: [], cls: 'slow' });
const pkLookup = (): Call => ({ text: `SELECT id, name, score FROM ${TABLE} WHERE id = $1`, values: [randomId()], cls: 'fast' });
const hundredRows = (): Call => ({
  text: `SELECT id, name, score FROM ${TABLE} WHERE id > $1 ORDER BY id LIMIT 100`,
  values: [randomId() % (ROWS - 100)],
  cls: 'fast',
});
const fastCallers = (callers: number, call: () => Call = () => SELECT_1): Group => ({ callers, next: call });
const slowCallers = (callers: number, call: Call): Group => ({ callers, next: () => call });
const lockedUpdate: Call = { text: `UPDATE ${TABLE} SET score = score + 1 WHERE id = $1`, values: [LOCKED_ID], cls: 'slow' };

/** The random mix: each call drawn at random. Its sleeps bound every contender's rate (see RANDOM_CEILING_QPS). */
const RANDOM_MIX = 'random 90% pk / 9% 100-row / 1% 50ms';
const RANDOM_SLEEP_S = 0.05;
const RANDOM_SLEEP_SHARE = 0.01;
/**
 * No pool of SIZE connections runs the random mix faster than this: its sleeps alone keep SIZE
 * connections busy at SIZE / 50 ms sleeps a second, one call in a hundred.
 */
const RANDOM_CEILING_QPS = SIZE / RANDOM_SLEEP_S / RANDOM_SLEEP_SHARE;
const randomMix = (name: string, callers: number): Scenario => ({
  name,
  allCalls: true,
  groups: [
    fastCallers(callers, () => {
      const draw = Math.random();
      if (draw < 0.9) return pkLookup();
      if (draw < 1 - RANDOM_SLEEP_SHARE) return hundredRows();
      return sleeper(RANDOM_SLEEP_S);
    }),
  ],
});

const SCENARIOS: Scenario[] = [
  { name: '100 fast + 3 x 300ms', groups: [fastCallers(100), slowCallers(3, sleeper(0.3))] },
  { name: '100 fast + 3 x 20ms', groups: [fastCallers(100), slowCallers(3, sleeper(0.02))] },
  { name: '100 fast + 10 x 300ms', groups: [fastCallers(100), slowCallers(10, sleeper(0.3))] },
  randomMix(RANDOM_MIX, 100),
  randomMix(`${RANDOM_MIX} @1000`, 1000),
  { name: '100 fast + 1 UPDATE, no lock', batch: 'lock', groups: [fastCallers(100), slowCallers(1, lockedUpdate)] },
  {
    name: '100 fast + 1 UPDATE waiting 2s on a row lock',
    batch: 'lock',
    lock: true,
    groups: [fastCallers(100), slowCallers(1, lockedUpdate)],
  },
  { name: 'SELECT 1 @10', ceiling: true, groups: [fastCallers(10)] },
  { name: 'SELECT 1 @100', ceiling: true, groups: [fastCallers(100)] },
  { name: 'SELECT 1 @1000', ceiling: true, groups: [fastCallers(1000)] },
  { name: '100-row select @100', groups: [fastCallers(100, hundredRows)] },
  { name: '100-row select @1000', groups: [fastCallers(1000, hundredRows)] },
];

interface ClassStats {
  /** Completed per second within the measured window. */
  qps: number;
  done: number;
  p50: number;
  p99: number;
  p999: number;
}
interface RunSample {
  fast: ClassStats;
  slow: ClassStats | undefined;
  errors: number;
}

/** Keeps row LOCKED_ID locked in a transaction of its own, LOCK_HOLD_MS at a time, until stopped. */
async function startLockHolder(): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: URL_, application_name: 'bench_mixed_lock_holder' });
  await client.connect();
  let stop = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stop) {
      await client.query('BEGIN');
      await client.query(`UPDATE ${TABLE} SET score = score WHERE id = $1`, [LOCKED_ID]);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, LOCK_HOLD_MS);
      });
      await client.query('COMMIT');
    }
  })();
  return async () => {
    stop = true;
    wake?.();
    await loop;
    await client.end();
  };
}

function summarise(latencies: number[], done: number): ClassStats {
  return {
    qps: done / (RUN_MS / 1000),
    done,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
  };
}

async function measure(contender: Contender, scenario: Scenario): Promise<RunSample> {
  const opened = await contender.open();
  const stopLock = scenario.lock ? await startLockHolder() : undefined;
  const latencies = { fast: [] as number[], slow: [] as number[] };
  const done = { fast: 0, slow: 0 };
  let errors = 0;
  const started = performance.now();
  const warmEnd = started + WARM_MS;
  const end = warmEnd + RUN_MS;
  const loops: Promise<void>[] = [];
  let loopIndex = 0;
  const run = async (group: Group, loop: number): Promise<void> => {
    while (performance.now() < end) {
      const call = group.next();
      const t0 = performance.now();
      try {
        await opened.query(call.text, call.values, loop);
      } catch {
        errors++;
        continue;
      }
      const t1 = performance.now();
      const classes: ('fast' | 'slow')[] = scenario.allCalls ? (call.cls === 'slow' ? ['fast', 'slow'] : ['fast']) : [call.cls];
      for (const cls of classes) {
        if (t0 >= warmEnd) latencies[cls].push(t1 - t0);
        if (t1 >= warmEnd && t1 <= end) done[cls]++;
      }
    }
  };
  try {
    if (contender.fixedLoops !== undefined) {
      const group = scenario.groups[0] as Group;
      for (let i = 0; i < contender.fixedLoops; i++) loops.push(run(group, i));
    } else {
      for (const group of scenario.groups) for (let i = 0; i < group.callers; i++) loops.push(run(group, loopIndex++));
    }
    await Promise.all(loops);
  } finally {
    await stopLock?.();
    await opened.close();
  }
  const hasSlow = scenario.groups.length > 1 || scenario.allCalls === true;
  return {
    fast: summarise(latencies.fast, done.fast),
    slow: hasSlow ? summarise(latencies.slow, done.slow) : undefined,
    errors,
  };
}

const medianStats = (list: (ClassStats | undefined)[]): ClassStats | undefined => {
  const present = list.filter((s): s is ClassStats => s !== undefined);
  if (present.length === 0) return undefined;
  const m = (pick: (s: ClassStats) => number) => median(present.map(pick));
  return { qps: m((s) => s.qps), done: m((s) => s.done), p50: m((s) => s.p50), p99: m((s) => s.p99), p999: m((s) => s.p999) };
};

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  await admin.query(`CREATE TABLE ${TABLE} (id int PRIMARY KEY, name text NOT NULL, score int NOT NULL)`);
  await admin.query(`INSERT INTO ${TABLE} SELECT g, 'name ' || g, g % 100 FROM generate_series(1, ${ROWS}) g`);
  await admin.query(`ANALYZE ${TABLE}`);
  const wanted = args.contenders?.split(',').map((c) => c.trim());
  const contenders = CONTENDERS.filter((c) => wanted === undefined || wanted.includes(c.name));
  const scenarios = SCENARIOS.filter((s) => args.filter === undefined || s.name.includes(args.filter));
  const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const startedAt = new Date();
  const results = new Map<string, { fast: ClassStats; slow: ClassStats | undefined; errors: number }>();
  try {
    const batches: Scenario[][] = [];
    for (const scenario of scenarios) {
      const same = scenario.batch === undefined ? undefined : batches.find((b) => b[0]?.batch === scenario.batch);
      if (same === undefined) batches.push([scenario]);
      else same.push(scenario);
    }
    for (const batch of batches) {
      // Every (scenario, contender) pair of the batch, interleaved round by round.
      const runs = new Map<string, { scenario: Scenario; contender: Contender }>();
      for (const scenario of batch)
        for (const contender of scenario.ceiling ? [...contenders, RAW_CEILING] : contenders)
          runs.set(`${scenario.name}|${contender.name}`, { scenario, contender });
      const samples = await interleaved(ROUNDS, [...runs.keys()], async (key, round) => {
        const { scenario, contender } = runs.get(key) as { scenario: Scenario; contender: Contender };
        const sample = await measure(contender, scenario);
        const slow = sample.slow === undefined ? '' : `; slow ${sample.slow.done} done, p99 ${sample.slow.p99.toFixed(1)} ms`;
        process.stderr.write(
          `round ${round + 1} ${scenario.name} ${contender.name}: fast ${Math.round(sample.fast.qps)}/s p50 ${sample.fast.p50.toFixed(2)} p99 ${sample.fast.p99.toFixed(1)} p999 ${sample.fast.p999.toFixed(1)} ms${slow}${sample.errors > 0 ? `; ${sample.errors} errors` : ''}\n`,
        );
        return sample;
      });
      for (const [key, list2] of samples) {
        results.set(key, {
          fast: medianStats(list2.map((s) => s.fast)) as ClassStats,
          slow: medianStats(list2.map((s) => s.slow)),
          errors: list2.reduce((sum, s) => sum + s.errors, 0),
        });
      }
    }
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await admin.end();
  }
  const loadAtEnd = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const get = (scenario: string, contender: string) => results.get(`${scenario}|${contender}`);

  if (args.json) {
    // One row per mix and measure for `spillway bench`: { contender: { mix: { measure: value } } }.
    const table: Record<string, Record<string, Record<string, number>>> = {};
    for (const [key, r] of results) {
      const [scenario, contender] = key.split('|') as [string, string];
      table[contender] ??= {};
      table[contender][scenario] = {
        'fast queries/s': r.fast.qps,
        'fast p99 ms': r.fast.p99,
        ...(r.slow === undefined ? {} : { 'slow statements done': r.slow.done }),
      };
    }
    console.log(JSON.stringify({ bench: 'multiplex-mixed', machine: machineLine(), table }));
    return;
  }

  const f1 = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(1));
  const f2 = (n: number) => (Number.isNaN(n) ? '' : n.toFixed(2));
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? '' : (a / b).toFixed(2));
  const lines = [
    `Mixed workloads, pool of ${SIZE}; ${RUN_MS / 1000} s per run after ${WARM_MS / 1000} s of warm-up; median of ${ROUNDS} interleaved rounds.`,
    `Started ${startedAt.toISOString()}; load average ${loadAtStart} at the start, ${loadAtEnd} at the end. ${machineLine()}.`,
    '',
    '| mix | contender | fast q/s | fast p50 ms | fast p99 ms | fast p999 ms | slow done | slow p50 ms | slow p99 ms | errors | fast q/s ÷ pg.Pool | fast p99 ÷ pg.Pool | slow done ÷ pg.Pool |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const scenario of scenarios) {
    const base = get(scenario.name, 'pg.Pool');
    const names = [...contenders.map((c) => c.name), ...(scenario.ceiling ? [RAW_CEILING.name] : [])];
    for (const name of names) {
      const r = get(scenario.name, name);
      if (r === undefined) continue;
      const label = scenario.allCalls ? `${scenario.name} (fast = all calls)` : scenario.name;
      lines.push(
        `| ${label} | ${name} | ${Math.round(r.fast.qps)} | ${f2(r.fast.p50)} | ${f1(r.fast.p99)} | ${f1(r.fast.p999)} | ${r.slow === undefined ? '' : Math.round(r.slow.done)} | ${r.slow === undefined ? '' : f1(r.slow.p50)} | ${r.slow === undefined ? '' : f1(r.slow.p99)} | ${r.errors} | ${ratio(r.fast.qps, base?.fast.qps)} | ${ratio(r.fast.p99, base?.fast.p99)} | ${r.slow === undefined ? '' : ratio(r.slow.done, base?.slow?.done)} |`,
      );
    }
  }
  lines.push('', ...targets(get), '');
  console.log(lines.join('\n'));
}

/** The issue's targets for Spillway's default, judged against the peers in this run. */
function targets(get: (scenario: string, contender: string) => RunSample | undefined): string[] {
  const out = ['| target (Spillway default) | measured | met |', '|---|---|---|'];
  const s = 'spillway';
  const row = (target: string, measured: string, met: boolean | undefined) =>
    out.push(`| ${target} | ${measured} | ${met === undefined ? 'n/a' : met ? 'yes' : '**no**'} |`);
  const sameAsPool = (mix: string) => {
    const a = get(mix, s);
    const b = get(mix, 'pg.Pool');
    if (a === undefined || b === undefined || a.slow === undefined || b.slow === undefined) return;
    const q = a.fast.qps / b.fast.qps;
    const p = a.fast.p99 / b.fast.p99;
    const d = a.slow.done / b.slow.done;
    row(
      `${mix}: fast q/s ≥ 1.0x, fast p99 ≤ 1.0x, slow done ≥ 1.0x pg.Pool`,
      `${q.toFixed(2)}x, ${p.toFixed(2)}x, ${d.toFixed(2)}x`,
      q >= 1 && p <= 1 && d >= 1,
    );
  };
  sameAsPool('100 fast + 3 x 300ms');
  sameAsPool('100 fast + 3 x 20ms');
  {
    const a = get('100 fast + 10 x 300ms', s);
    const b = get('100 fast + 10 x 300ms', 'pg.Pool');
    if (a !== undefined && b !== undefined)
      row(
        '100 fast + 10 x 300ms: fast q/s far above pg.Pool (≥ 2x here), fast p99 < 50 ms',
        `${(a.fast.qps / b.fast.qps).toFixed(2)}x, ${a.fast.p99.toFixed(1)} ms`,
        a.fast.qps >= 2 * b.fast.qps && a.fast.p99 < 50,
      );
  }
  for (const mix of [RANDOM_MIX, `${RANDOM_MIX} @1000`]) {
    const a = get(mix, s);
    const b = get(mix, 'pg.Pool');
    if (a === undefined || b === undefined || a.slow === undefined || b.slow === undefined) continue;
    // 1 % of the calls sleep, so the all-calls p99 sits where the sleeps begin: it reads either the
    // fastest sleeps or the slowest lookups, by how many sleeps the draw gave. The sleeps' own p50
    // shows the wait they met.
    row(
      `${mix}: q/s ≥ 1.5x, p99 ≤ 1.0x pg.Pool`,
      `${(a.fast.qps / b.fast.qps).toFixed(2)}x, ${(a.fast.p99 / b.fast.p99).toFixed(2)}x (sleeps' p50 ${(a.slow.p50 / b.slow.p50).toFixed(2)}x)`,
      a.fast.qps >= 1.5 * b.fast.qps && a.fast.p99 <= b.fast.p99,
    );
    const ceiling = RANDOM_CEILING_QPS / b.fast.qps;
    if (ceiling < 1.5)
      out.push(
        `| ${mix}: the sleeps bound any pool of ${SIZE} to ${RANDOM_CEILING_QPS} calls/s | ${ceiling.toFixed(2)}x pg.Pool's rate in this run: 1.5x is out of reach | |`,
      );
  }
  {
    const locked = get('100 fast + 1 UPDATE waiting 2s on a row lock', s);
    const free = get('100 fast + 1 UPDATE, no lock', s);
    if (locked !== undefined && free !== undefined)
      row(
        'row lock: fast p99 ≤ 1.1x the same run without the lock',
        `${(locked.fast.p99 / free.fast.p99).toFixed(2)}x (${locked.fast.p99.toFixed(1)} against ${free.fast.p99.toFixed(1)} ms)`,
        locked.fast.p99 <= 1.1 * free.fast.p99,
      );
  }
  for (const callers of [10, 100, 1000]) {
    const a = get(`SELECT 1 @${callers}`, s);
    const c = get(`SELECT 1 @${callers}`, 'raw ceiling');
    if (a !== undefined && c !== undefined)
      row(
        `SELECT 1 @${callers}: ≥ 2x the raw 10-connection ceiling`,
        `${(a.fast.qps / c.fast.qps).toFixed(2)}x`,
        a.fast.qps >= 2 * c.fast.qps,
      );
  }
  for (const callers of [100, 1000]) {
    const mix = `100-row select @${callers}`;
    const a = get(mix, s);
    const js = get(mix, 'postgres.js');
    const b = get(mix, 'pg.Pool');
    if (a !== undefined && js !== undefined && b !== undefined)
      row(
        `${mix}: q/s ≥ postgres.js, p99 ≤ pg.Pool`,
        `${(a.fast.qps / js.fast.qps).toFixed(2)}x, ${(a.fast.p99 / b.fast.p99).toFixed(2)}x`,
        a.fast.qps >= js.fast.qps && a.fast.p99 <= b.fast.p99,
      );
  }
  return out;
}

await main();
