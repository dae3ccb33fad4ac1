/**
 * Memory per waiter: a pool of 10 (all lent) with 1000 callers waiting, heap bytes per waiter,
 * for Spillway and the peers, with an in-memory fake connection. Run with --expose-gc:
 *
 *   node --expose-gc --import tsx bench/pool-memory.ts [--waiters 1000] [--json]
 */

import { parseArgs } from 'node:util';
import genericPool from 'generic-pool';
import pg from 'pg';
import { Pool as TarnPool } from 'tarn';
import { benchCorePool, FakePgClient, machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: { waiters: { type: 'string', default: '1000' }, json: { type: 'boolean', default: false } },
});
const WAITERS = Number(args.waiters);
const SIZE = 10;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

interface Subject {
  acquire(): Promise<unknown>;
  release(handle: unknown): void;
  close(): Promise<void>;
}

const SUBJECTS: Record<string, () => Subject> = {
  spillway: () => {
    const pool = benchCorePool(SIZE);
    return { acquire: () => pool.acquire(), release: (l) => (l as { release(): void }).release(), close: () => pool.close({ graceMs: 0 }) };
  },
  'generic-pool': () => {
    const pool = genericPool.createPool(
      { create: async () => ({}), destroy: async () => undefined },
      { max: SIZE, acquireTimeoutMillis: 30_000 },
    );
    return {
      acquire: () => pool.acquire(),
      release: (c) => void pool.release(c as object),
      close: () => pool.drain().then(() => pool.clear()),
    };
  },
  'pg-pool': () => {
    const pool = new pg.Pool({ max: SIZE, connectionTimeoutMillis: 30_000, Client: FakePgClient as never });
    return { acquire: () => pool.connect(), release: (c) => (c as { release(): void }).release(), close: () => pool.end() };
  },
  tarn: () => {
    const pool = new TarnPool({
      create: (cb: (e: Error | null, c: object) => void) => cb(null, {}),
      destroy: () => undefined,
      min: 0,
      max: SIZE,
      acquireTimeoutMillis: 30_000,
    });
    return {
      acquire: () => pool.acquire().promise,
      release: (c) => void pool.release(c as object),
      close: async () => void (await pool.destroy()),
    };
  },
};

async function bytesPerWaiter(name: string): Promise<number> {
  const subject = SUBJECTS[name]!();
  const held = await Promise.all(Array.from({ length: SIZE }, () => subject.acquire()));
  gc!();
  const before = process.memoryUsage().heapUsed;
  const waiting = Array.from({ length: WAITERS }, () => subject.acquire());
  gc!();
  const after = process.memoryUsage().heapUsed;
  // Serve everyone, then close.
  for (const h of held) subject.release(h);
  for (const w of waiting) subject.release(await w);
  await subject.close();
  // The array of promises the benchmark itself holds is ~8 bytes per waiter plus the promise.
  return (after - before) / WAITERS;
}

const table: Record<string, number> = {};
for (const name of Object.keys(SUBJECTS)) {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) samples.push(await bytesPerWaiter(name));
  table[name] = median(samples);
}
if (args.json) console.log(JSON.stringify({ bench: 'pool-memory', machine: machineLine(), waiters: WAITERS, table }));
else {
  console.log(
    `Heap bytes per waiter, pool of ${SIZE} fully lent, ${WAITERS} waiters (median of 3, includes the caller's promise); ${machineLine()}`,
  );
  console.log('| pool | bytes per waiter |\n|---|---:|');
  for (const [name, bytes] of Object.entries(table)) console.log(`| ${name} | ${bytes.toFixed(0)} |`);
}
