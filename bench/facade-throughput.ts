/**
 * SELECT 1 through spillway/pg's drop-in Pool against pg.Pool itself, side by side in one run:
 * 10, 100 and 1000 concurrent callers calling pool.query on a pool of 10 (max: 10, both with their
 * defaults otherwise). Medians of 3 interleaved runs; the ratio is facade ÷ pg.Pool (target >= 1); the paired
 * ratio is the median of each round's facade ÷ pg.Pool, and CPU µs/query this process's own cost.
 *
 * A second table runs the same loops with an in-memory Client class given to both pools (the `Client`
 * option): no server and no socket, so what is left is each pool's own CPU per query, the figure a busy
 * machine disturbs least. Lower is better; the ratio is facade ÷ pg.Pool (target <= 1).
 *
 * Run: npx tsx bench/facade-throughput.ts [--seconds 2] [--rounds 3] [--url postgres://postgres@127.0.0.1:5432/test]
 *      [--memory-queries 100000] (0 skips the in-memory table)
 */
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool as FacadePool } from '../dist/pg.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    callers: { type: 'string', default: '10,100,1000' },
    'memory-queries': { type: 'string', default: '100000' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const MAX = 10;
const CALLERS = args.callers.split(',').map(Number);
const MEMORY_QUERIES = Number(args['memory-queries']);

interface QueryPool {
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
}

const FACTORIES: Record<string, () => QueryPool> = {
  'pg.Pool': () => new pg.Pool({ connectionString: args.url, max: MAX }),
  'spillway/pg Pool': () => new FacadePool({ connectionString: args.url, max: MAX, name: 'bench-facade' }),
};

interface Sample {
  qps: number;
  /** This process's CPU time per query (user + system): the pool's own cost, less sensitive to a busy machine. */
  cpuUs: number;
}

/** Queries per second, and CPU per query, for `callers` concurrent loops over one fresh pool. */
async function run(name: string, callers: number): Promise<Sample> {
  const pool = (FACTORIES[name] as () => QueryPool)();
  // Warm up: open every connection and let the JIT see the path.
  await Promise.all(Array.from({ length: Math.max(callers, MAX * 20) }, () => pool.query('SELECT 1')));
  let count = 0;
  const until = performance.now() + SECONDS * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      await pool.query('SELECT 1');
      count++;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: callers }, loop));
  const used = process.cpuUsage(cpu);
  const qps = count / ((performance.now() - started) / 1000);
  await pool.end();
  return { qps, cpuUs: (used.user + used.system) / count };
}

const names = Object.keys(FACTORIES);
console.log(`SELECT 1 via pool.query, max ${MAX}, ${SECONDS}s per run, median of ${ROUNDS} interleaved runs; ${machineLine()}`);
console.log(
  '| callers | pg.Pool q/s | spillway/pg q/s | facade ÷ pg.Pool | paired ratio | CPU µs/query pg.Pool | CPU µs/query spillway/pg | every run q/s (pg.Pool ; facade) |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
for (const callers of CALLERS) {
  const results = await interleaved(ROUNDS, names, (name) => run(name, callers));
  const samples = names.map((name) => results.get(name) ?? []);
  const [pgQps, facadeQps] = samples.map((s) => median(s.map((x) => x.qps))) as [number, number];
  const [pgCpu, facadeCpu] = samples.map((s) => median(s.map((x) => x.cpuUs))) as [number, number];
  const every = samples.map((s) => s.map((x) => x.qps.toFixed(0)).join(' ')).join(' ; ');
  // Each round's two runs are back to back: their ratio cancels most of the machine's drift.
  const [pgRuns = [], facadeRuns = []] = samples;
  const paired = median(facadeRuns.map((x, i) => x.qps / (pgRuns[i]?.qps ?? Number.NaN)));
  console.log(
    `| ${callers} | ${pgQps.toFixed(0)} | ${facadeQps.toFixed(0)} | ${(facadeQps / pgQps).toFixed(2)} | ${paired.toFixed(2)} | ${pgCpu.toFixed(0)} | ${facadeCpu.toFixed(0)} | ${every} |`,
  );
}

/**
 * A pg.Client stand-in that answers at once (on the next turn of the event loop, as a socket would):
 * it has pg's `_queryable`/`_ending` flags, which both pools read at release.
 */
class MemoryClient extends EventEmitter {
  _queryable = true;
  _ending = false;
  connect(callback: (error?: Error) => void): void {
    setImmediate(() => callback());
  }
  query(_text: unknown, _values: unknown, callback: (error: Error | null, result?: unknown) => void): void {
    setImmediate(() => callback(null, { rows: [{ '?column?': 1 }], rowCount: 1 }));
  }
  end(callback?: () => void): void {
    this._ending = true;
    setImmediate(() => callback?.());
  }
}

const MEMORY_FACTORIES: Record<string, () => QueryPool> = {
  'pg.Pool': () => new pg.Pool({ max: MAX, Client: MemoryClient as unknown as typeof pg.Client }),
  'spillway/pg Pool': () => new FacadePool({ max: MAX, Client: MemoryClient as unknown as typeof pg.Client, name: 'bench-facade-memory' }),
};

/** This process's CPU µs per query for `callers` loops sharing MEMORY_QUERIES queries on one fresh pool. */
async function runInMemory(name: string, callers: number): Promise<number> {
  const pool = (MEMORY_FACTORIES[name] as () => QueryPool)();
  await Promise.all(Array.from({ length: Math.max(callers, MAX * 20) }, () => pool.query('SELECT 1')));
  let left = MEMORY_QUERIES;
  const loop = async (): Promise<void> => {
    while (left-- > 0) await pool.query('SELECT 1');
  };
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: callers }, loop));
  const used = process.cpuUsage(cpu);
  await pool.end();
  return (used.user + used.system) / MEMORY_QUERIES;
}

if (MEMORY_QUERIES > 0) {
  console.log('');
  console.log(
    `The pools' own cost: pool.query on an in-memory Client, max ${MAX}, ${MEMORY_QUERIES} queries per run, median of ${ROUNDS} interleaved runs`,
  );
  console.log('| callers | CPU µs/query pg.Pool | CPU µs/query spillway/pg | facade ÷ pg.Pool | every run µs (pg.Pool ; facade) |');
  console.log('|---:|---:|---:|---:|---|');
  for (const callers of CALLERS) {
    const results = await interleaved(ROUNDS, names, (name) => runInMemory(name, callers));
    const [pgRuns = [], facadeRuns = []] = names.map((name) => results.get(name) ?? []);
    const [pgCpu, facadeCpu] = [median(pgRuns), median(facadeRuns)];
    const every = [pgRuns, facadeRuns].map((runs) => runs.map((x) => x.toFixed(2)).join(' ')).join(' ; ');
    console.log(`| ${callers} | ${pgCpu.toFixed(2)} | ${facadeCpu.toFixed(2)} | ${(facadeCpu / pgCpu).toFixed(2)} | ${every} |`);
  }
}
