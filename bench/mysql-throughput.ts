/**
 * SELECT 1 on the local MariaDB/MySQL through Spillway and through mysql2's own pool, side by side
 * in one run: queries/s at 10 / 100 / 1000 concurrent callers, pool of 10 (connectionLimit 10,
 * maxOverflow 0). Medians of --rounds (3) interleaved runs; p99 latency per call. The drop-ins
 * (spillway/mysql's promise pool, spillway/mysql/callback's callback pool) run beside the mysql2
 * pools they replace; --pools picks contenders by name (comma-separated), all by default.
 *
 * Run: npx tsx bench/mysql-throughput.ts [--seconds 1.5] [--rounds 3] [--url mysql://root@127.0.0.1:3306/test] [--json]
 *      [--pools 'mysql2 pool (promise),spillway/mysql (promise)']
 */
import { parseArgs } from 'node:util';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { createPool } from '../dist/index.js';
import { createPool as createFacadePool } from '../dist/mysql.js';
import { createPool as createFacadeCallbackPool } from '../dist/mysql-callback.js';
import { closedLoop, interleaved, type LoadContender, type LoadSample, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1.5' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test' },
    json: { type: 'boolean', default: false },
    callers: { type: 'string', default: '10,100,1000' },
    rounds: { type: 'string', default: '3' },
    pools: { type: 'string', default: '' },
  },
});
const URL_ = args.url;
const SECONDS = Number(args.seconds);
const SIZE = 10;
const CALLERS = args.callers.split(',').map(Number);
const ROUNDS = Number(args.rounds);

const FACTORIES: Record<string, () => Promise<LoadContender>> = {
  spillway: async () => {
    const db = createPool({ url: URL_, name: 'bench', size: SIZE, maxOverflow: 0, env: {} });
    return { query: () => db.query('SELECT 1'), close: () => db.close() };
  },
  'mysql2 pool (promise)': async () => {
    const pool = mysqlPromise.createPool({ uri: URL_, connectionLimit: SIZE });
    return { query: () => pool.query('SELECT 1'), close: () => pool.end() };
  },
  'mysql2 pool (callback)': async () => {
    const pool = mysql.createPool({ uri: URL_, connectionLimit: SIZE });
    return {
      query: () => new Promise((resolve, reject) => pool.query('SELECT 1', (error, rows) => (error ? reject(error) : resolve(rows)))),
      close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
    };
  },
  'spillway/mysql (promise)': async () => {
    const pool = createFacadePool({ uri: URL_, connectionLimit: SIZE });
    return { query: () => pool.query('SELECT 1'), close: () => pool.end() };
  },
  'spillway/mysql/callback': async () => {
    const pool = createFacadeCallbackPool({ uri: URL_, connectionLimit: SIZE });
    return {
      query: () => new Promise((resolve, reject) => pool.query('SELECT 1', (error, rows) => (error ? reject(error) : resolve(rows)))),
      close: () => new Promise<void>((resolve) => pool.end(() => resolve())),
    };
  },
};

async function run(name: string, callers: number): Promise<LoadSample> {
  return closedLoop(await FACTORIES[name]!(), callers, SECONDS, SIZE);
}

const names = args.pools === '' ? Object.keys(FACTORIES) : args.pools.split(',').map((name) => name.trim());
for (const name of names)
  if (FACTORIES[name] === undefined) throw new Error(`unknown pool "${name}"; known: ${Object.keys(FACTORIES).join(', ')}`);
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
  console.log(JSON.stringify({ bench: 'mysql-throughput', machine: machineLine(), table }));
} else {
  const peer = (table['mysql2 pool (promise)'] ?? table[names[0] as string])!;
  console.log(`SELECT 1 on MySQL/MariaDB, pool of ${SIZE}, ${SECONDS}s per run, median of ${ROUNDS} interleaved runs; ${machineLine()}`);
  console.log(
    `| pool | ${CALLERS.map((c) => `q/s @${c}`).join(' | ')} | ${CALLERS.map((c) => `÷ mysql2 promise pool @${c}`).join(' | ')} | ${CALLERS.map((c) => `p99 ms @${c}`).join(' | ')} | ${CALLERS.map((c) => `client CPU µs/query @${c}`).join(' | ')} |`,
  );
  const columns = CALLERS.map(() => '---:').join('|');
  console.log(`|---|${columns}|${columns}|${columns}|${columns}|`);
  for (const name of names) {
    const row = table[name]!;
    console.log(
      `| ${name} | ${CALLERS.map((c) => row[c]!.qps.toFixed(0)).join(' | ')} | ${CALLERS.map((c) => (row[c]!.qps / peer[c]!.qps).toFixed(2)).join(' | ')} | ${CALLERS.map((c) => row[c]!.p99Ms.toFixed(1)).join(' | ')} | ${CALLERS.map((c) => row[c]!.cpuUs.toFixed(0)).join(' | ')} |`,
    );
  }
}
