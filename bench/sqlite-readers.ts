/**
 * SQLite through Spillway against one bare better-sqlite3 connection, in one run:
 *  1. read throughput: 4 concurrent async readers through Spillway (reader pool of 4) vs one bare
 *     connection (a tight synchronous loop, the ceiling, and the same 4 async callers on it), for a
 *     point read and a 100-row range read. Everything runs on the main thread, so throughput is
 *     counted per second of this process's CPU time (process.cpuUsage): on a shared machine wall
 *     time mostly measures the neighbours. Medians of --rounds interleaved runs.
 *  2. event-loop blocking of a write transaction of 20 statements: the longest event-loop delay
 *     (perf_hooks.monitorEventLoopDelay) during it vs its longest single statement, and vs the same
 *     transaction as one synchronous better-sqlite3 db.transaction().
 *
 * Run: npx tsx bench/sqlite-readers.ts [--seconds 1] [--rounds 5] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { createPool } from '../dist/index.js';
import { interleaved, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);

/** CPU seconds (user + system) this process spent since `since`. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}
const READERS = 4;
const ROWS = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-sqlite-'));
const file = join(dir, 'bench.db');

// The data set, written once with the same pragmas Spillway uses.
{
  const setup = new BetterSqlite3(file);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL)');
  const insert = setup.prepare('INSERT INTO items (id, name, price) VALUES (?, ?, ?)');
  setup.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(i, `item ${i}`, i / 100);
  })();
  setup.close();
}

const WORKLOADS = {
  'point read': { sql: 'SELECT * FROM items WHERE id = ?', param: (i: number) => (i % ROWS) + 1 },
  '100-row range': { sql: 'SELECT * FROM items WHERE id BETWEEN ? AND ? + 99', param: (i: number) => (i % (ROWS - 100)) + 1 },
} as const;
type Workload = keyof typeof WORKLOADS;

function bareConnection(): BetterSqlite3.Database {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -20000');
  db.pragma('mmap_size = 268435456');
  return db;
}

const SPILLWAY_BARE = `spillway, ${READERS} async readers, instrumentation off`;

/** Queries per second of one contender on one workload. */
async function readRun(contender: string, workload: Workload): Promise<number> {
  const { sql, param } = WORKLOADS[workload];
  const params = (i: number) => (workload === 'point read' ? [param(i)] : [param(i), param(i)]);
  const until = performance.now() + SECONDS * 1000;
  let count = 0;
  let cpu = process.cpuUsage();
  if (contender === 'bare, sync loop') {
    const db = bareConnection();
    const statement = db.prepare(sql);
    while (performance.now() < until) {
      for (let k = 0; k < 100; k++) statement.all(...params(count++));
    }
    db.close();
  } else if (contender === `bare, ${READERS} async callers`) {
    const db = bareConnection();
    const statement = db.prepare(sql);
    const query = async (i: number) => statement.all(...params(i));
    await Promise.all(
      Array.from({ length: READERS }, async () => {
        while (performance.now() < until) await query(count++);
      }),
    );
    db.close();
  } else {
    // The second Spillway contender turns instrumentation off, to show what metrics, tracing and leak
    // detection cost next to a point read of a few microseconds.
    const instrumentation =
      contender === SPILLWAY_BARE ? { metrics: false, tracing: false, leakThresholdMs: 0, healthCheckIntervalMs: 0 } : {};
    const db = createPool({ url: `sqlite:${file}`, size: READERS, maxOverflow: 0, env: {}, ...instrumentation });
    await Promise.all(Array.from({ length: READERS }, () => db.query(sql, params(0))));
    cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: READERS }, async () => {
        while (performance.now() < until) await db.query(sql, params(count++));
      }),
    );
    const seconds = cpuSeconds(cpu);
    await db.close();
    return count / seconds;
  }
  return count / cpuSeconds(cpu);
}

const contenders = ['bare, sync loop', `bare, ${READERS} async callers`, `spillway, ${READERS} async readers`, SPILLWAY_BARE];
const reads: Record<string, Record<string, number>> = {};
for (const workload of Object.keys(WORKLOADS) as Workload[]) {
  // One discarded round first, so every contender is measured with its code optimised by the JIT.
  for (const name of contenders) await readRun(name, workload);
  const results = await interleaved(ROUNDS, contenders, (name) => readRun(name, workload));
  for (const [name, samples] of results) {
    reads[name] ??= {};
    reads[name][workload] = median(samples);
  }
}

// 2. Event-loop blocking of one write transaction of 20 statements.
const STATEMENTS = 20;
const PER_STATEMENT = 5000;
const insertBatch = `INSERT INTO log (v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${PER_STATEMENT}) SELECT i FROM n`;

async function spillwayTransaction(): Promise<{ totalMs: number; longestStatementMs: number; maxDelayMs: number }> {
  const db = createPool({ url: `sqlite:${file}`, size: 2, env: {} });
  await db.query('CREATE TABLE IF NOT EXISTS log (v INTEGER)');
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let longest = 0;
  histogram.enable();
  const started = performance.now();
  await db.transaction(async (tx) => {
    for (let i = 0; i < STATEMENTS; i++) {
      const t0 = performance.now();
      await tx.query(insertBatch);
      longest = Math.max(longest, performance.now() - t0);
      // Yield to the event loop between statements, as an application awaiting other I/O would.
      await new Promise((r) => setImmediate(r));
    }
  });
  const totalMs = performance.now() - started;
  histogram.disable();
  await db.query('DELETE FROM log');
  await db.close();
  return { totalMs, longestStatementMs: longest, maxDelayMs: histogram.max / 1e6 };
}

async function bareTransaction(): Promise<{ totalMs: number; maxDelayMs: number }> {
  const db = bareConnection();
  db.exec('CREATE TABLE IF NOT EXISTS log (v INTEGER)');
  const statement = db.prepare(insertBatch);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  db.transaction(() => {
    for (let i = 0; i < STATEMENTS; i++) statement.run();
  })();
  const totalMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 5));
  histogram.disable();
  db.exec('DELETE FROM log');
  db.close();
  return { totalMs, maxDelayMs: histogram.max / 1e6 };
}

const spillwayTx = (await interleaved(3, ['spillway'], () => spillwayTransaction())).get('spillway')!;
const bareTx = (await interleaved(3, ['bare'], () => bareTransaction())).get('bare')!;
const tx = {
  spillway: {
    totalMs: median(spillwayTx.map((s) => s.totalMs)),
    longestStatementMs: median(spillwayTx.map((s) => s.longestStatementMs)),
    maxDelayMs: median(spillwayTx.map((s) => s.maxDelayMs)),
  },
  bare: { totalMs: median(bareTx.map((s) => s.totalMs)), maxDelayMs: median(bareTx.map((s) => s.maxDelayMs)) },
};
rmSync(dir, { recursive: true, force: true });

if (args.json) {
  console.log(JSON.stringify({ bench: 'sqlite-readers', machine: machineLine(), reads, transaction: tx }));
} else {
  console.log(`SQLite reads per CPU-second, ${SECONDS}s per run, median of ${ROUNDS} interleaved runs; ${machineLine()}`);
  const workloads = Object.keys(WORKLOADS);
  const ceiling = reads['bare, sync loop']!;
  console.log(`| contender | ${workloads.map((w) => `q/s ${w}`).join(' | ')} | ${workloads.map((w) => `÷ bare sync ${w}`).join(' | ')} |`);
  console.log(`|---|${workloads.map(() => '---:').join('|')}|${workloads.map(() => '---:').join('|')}|`);
  for (const name of contenders) {
    const row = reads[name]!;
    console.log(
      `| ${name} | ${workloads.map((w) => row[w]!.toFixed(0)).join(' | ')} | ${workloads.map((w) => (row[w]! / ceiling[w]!).toFixed(2)).join(' | ')} |`,
    );
  }
  console.log('');
  console.log(`Write transaction of ${STATEMENTS} statements x ${PER_STATEMENT} rows (median of 3):`);
  console.log('| | transaction ms | longest statement ms | max event-loop delay ms |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| spillway (awaits between statements) | ${tx.spillway.totalMs.toFixed(1)} | ${tx.spillway.longestStatementMs.toFixed(1)} | ${tx.spillway.maxDelayMs.toFixed(1)} |`,
  );
  console.log(`| bare db.transaction() (synchronous) | ${tx.bare.totalMs.toFixed(1)} | – | ${tx.bare.maxDelayMs.toFixed(1)} |`);
}
