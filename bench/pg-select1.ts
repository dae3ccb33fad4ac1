/**
 * SELECT 1 through each pool on the local PostgreSQL, queries/s as a fraction of a raw ceiling
 * (10 dedicated pg.Client connections, callers spread over them, no pool), at 10 / 100 / 1000
 * concurrent callers, pool of 10. Medians of interleaved runs; p99 latency per call and the client's CPU
 * per query (steadier than q/s on a shared machine).
 *
 * Run: npx tsx bench/pg-select1.ts [--seconds 1.5] [--rounds 3] [--callers 10,100,1000] [--url postgres://postgres@127.0.0.1:5432/test] [--json]
 */
import { parseArgs } from 'node:util';
import knex from 'knex';
import pg from 'pg';
import postgres from 'postgres';
import { createPool } from '../dist/index.js';
import { closedLoop, interleaved, type LoadContender, type LoadSample, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    json: { type: 'boolean', default: false },
    callers: { type: 'string', default: '10,100,1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const URL_ = args.url;
const SECONDS = Number(args.seconds);
const SIZE = 10;
const CALLERS = args.callers.split(',').map(Number);
const ROUNDS = Number(args.rounds);

async function raw(): Promise<LoadContender> {
  const clients = await Promise.all(
    Array.from({ length: SIZE }, async () => {
      const c = new pg.Client({ connectionString: URL_ });
      await c.connect();
      return c;
    }),
  );
  let next = 0;
  return {
    query: () => clients[next++ % SIZE]!.query('SELECT 1'),
    close: async () => void (await Promise.all(clients.map((c) => c.end()))),
  };
}

const FACTORIES: Record<string, () => Promise<LoadContender>> = {
  'raw ceiling': raw,
  // What `createPool` does on PostgreSQL: plain statements pipelined on shared connections (issue 9;
  // bench/multiplex.ts has more scenarios). Then the pool core's checkout path alone, one statement
  // per connection, as pg.Pool works.
  spillway: async () => {
    const db = createPool({ url: URL_, name: 'bench', size: SIZE, maxOverflow: 0, env: {} });
    return { query: () => db.query('SELECT 1'), close: () => db.close() };
  },
  'spillway (multiplex: false)': async () => {
    const db = createPool({ url: URL_, name: 'bench', size: SIZE, maxOverflow: 0, multiplex: false, env: {} });
    return { query: () => db.query('SELECT 1'), close: () => db.close() };
  },
  'pg.Pool': async () => {
    const pool = new pg.Pool({ connectionString: URL_, max: SIZE });
    return { query: () => pool.query('SELECT 1'), close: () => pool.end() };
  },
  'knex (tarn)': async () => {
    const k = knex({ client: 'pg', connection: URL_, pool: { min: 0, max: SIZE } });
    return { query: () => k.raw('SELECT 1'), close: () => k.destroy() };
  },
  'postgres.js': async () => {
    const s = postgres(URL_, { max: SIZE, onnotice: () => undefined });
    return { query: () => s`SELECT 1`, close: () => s.end({ timeout: 1 }) };
  },
};

async function run(name: string, callers: number): Promise<LoadSample> {
  return closedLoop(await FACTORIES[name]!(), callers, SECONDS, SIZE);
}

const names = Object.keys(FACTORIES);
const table: Record<string, Record<number, LoadSample>> = {};
for (const callers of CALLERS) {
  const results = await interleaved(ROUNDS, names, (name) => run(name, callers));
  for (const [name, samples] of results) {
    table[name] ??= {};
    table[name][callers] = {
      qps: median(samples.map((s) => s.qps)),
      p99Ms: median(samples.map((s) => s.p99Ms)),
      cpuUs: median(samples.map((s) => s.cpuUs)),
    };
  }
}

if (args.json) {
  console.log(JSON.stringify({ bench: 'pg-select1', machine: machineLine(), table }));
} else {
  console.log(`SELECT 1 on PostgreSQL, pool of ${SIZE}, ${SECONDS}s per run, median of ${ROUNDS} interleaved runs; ${machineLine()}`);
  console.log(
    `| pool | ${CALLERS.map((c) => `q/s @${c}`).join(' | ')} | ${CALLERS.map((c) => `÷ ceiling @${c}`).join(' | ')} | ${CALLERS.map((c) => `p99 ms @${c}`).join(' | ')} | ${CALLERS.map((c) => `client CPU µs/query @${c}`).join(' | ')} |`,
  );
  console.log(`|---|${[1, 2, 3, 4].map(() => CALLERS.map(() => '---:').join('|')).join('|')}|`);
  const ceiling = table['raw ceiling']!;
  for (const name of names) {
    const row = table[name]!;
    console.log(
      `| ${name} | ${CALLERS.map((c) => row[c]!.qps.toFixed(0)).join(' | ')} | ${CALLERS.map((c) => (row[c]!.qps / ceiling[c]!.qps).toFixed(2)).join(' | ')} | ${CALLERS.map((c) => row[c]!.p99Ms.toFixed(1)).join(' | ')} | ${CALLERS.map((c) => row[c]!.cpuUs.toFixed(1)).join(' | ')} |`,
    );
  }
}
