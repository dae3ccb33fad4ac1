/**
 * SELECT 1 through spillway/pg's drop-in Pool against pg.Pool itself, side by side in one run:
 * 10, 100 and 1000 concurrent callers calling pool.query on a pool of 10 (max: 10, both with their
 * defaults otherwise). Medians of 3 interleaved runs; the ratio is facade ÷ pg.Pool (target >= 1); the paired
 * ratio is the median of each round's facade ÷ pg.Pool, and CPU µs/query this process's own cost.
 *
 * Run: npx tsx bench/facade-throughput.ts [--seconds 2] [--rounds 3] [--url postgres://postgres@127.0.0.1:5432/test]
 */
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
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const MAX = 10;
const CALLERS = args.callers.split(',').map(Number);

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
