/**
 * Pool overhead alone: ns per acquire+release with an in-memory fake connection, at 1 / 64 / 1000
 * concurrent callers, pool of 10. Spillway runs with checkout timeouts, pre-ping (inside its bypass
 * window) and stats on. Medians of 3 interleaved runs after one discarded run of each pool; process
 * CPU time per operation.
 *
 * Run: npx tsx bench/pool-overhead.ts [--ops 200000] [--json]
 */
import { parseArgs } from 'node:util';
import { type InMemoryPool, inMemoryPools } from './in-memory-pools.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({ options: { ops: { type: 'string', default: '200000' }, json: { type: 'boolean', default: false } } });
const OPS = Number(args.ops);
const SIZE = 10;
const CONCURRENCY = [1, 64, 1000];

type BenchPool = InMemoryPool;

/** The naive 20-line pool the issue measures against: an array of idle and a FIFO array of waiters. */
class NaivePool implements BenchPool {
  idle: object[] = [];
  waiters: ((c: object) => void)[] = [];
  created = 0;
  acquire(): Promise<object> {
    const c = this.idle.pop();
    if (c !== undefined) return Promise.resolve(c);
    if (this.created < SIZE) {
      this.created++;
      return Promise.resolve({});
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(c: object): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(c);
    else this.idle.push(c);
  }
  async close(): Promise<void> {}
}

const FACTORIES: Record<string, () => BenchPool> = { naive: () => new NaivePool(), ...inMemoryPools(SIZE) };

async function run(factory: () => BenchPool, concurrency: number): Promise<number> {
  const pool = factory();
  const perCaller = Math.ceil(OPS / concurrency);
  const loop = async () => {
    for (let i = 0; i < perCaller; i++) pool.release(await pool.acquire());
  };
  // Warm-up, then measure.
  await Promise.all(
    Array.from({ length: concurrency }, () =>
      (async () => {
        for (let i = 0; i < 50; i++) pool.release(await pool.acquire());
      })(),
    ),
  );
  // CPU time of this process, not wall time: the loop never waits on I/O, so on a quiet machine the
  // two agree, and on a shared one wall time mostly measures the neighbours' share of the cores.
  const started = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const used = process.cpuUsage(started);
  const elapsed = (used.user + used.system) * 1000;
  await pool.close();
  return elapsed / (perCaller * concurrency);
}

const names = Object.keys(FACTORIES);
const table: Record<string, Record<number, number>> = {};
for (const concurrency of CONCURRENCY) {
  // One discarded run of every pool first, as in sqlite-readers.ts: a pool serves a long-running
  // process, so what counts is its cost once the JIT has optimised it. Without it the first rounds
  // measure compilation: 50 warm-up checkouts at 1 caller optimise nothing, and the pool with more
  // code to compile (checkout timeouts, validation, stats) pays more for it.
  for (const name of names) await run(FACTORIES[name]!, concurrency);
  const results = await interleaved(3, names, (name) => run(FACTORIES[name]!, concurrency));
  for (const [name, values] of results) {
    table[name] ??= {};
    table[name][concurrency] = median(values);
  }
}

if (args.json) {
  console.log(JSON.stringify({ bench: 'pool-overhead', unit: 'ns/op', machine: machineLine(), table }));
} else {
  console.log(`Pool overhead, ns per acquire+release (median of 3 interleaved runs, ${OPS} ops, pool of ${SIZE}); ${machineLine()}`);
  console.log(`| pool | ${CONCURRENCY.map((c) => `${c} callers`).join(' | ')} | ${CONCURRENCY.map((c) => `× naive @${c}`).join(' | ')} |`);
  console.log(`|---|${CONCURRENCY.map(() => '---:').join('|')}|${CONCURRENCY.map(() => '---:').join('|')}|`);
  for (const name of names) {
    const row = table[name]!;
    const ratios = CONCURRENCY.map((c) => (row[c]! / table.naive![c]!).toFixed(2));
    console.log(`| ${name} | ${CONCURRENCY.map((c) => row[c]!.toFixed(0)).join(' | ')} | ${ratios.join(' | ')} |`);
  }
}
