/**
 * Memory per waiter: a pool of 10 (all lent) with 1000 callers waiting, heap bytes per waiter,
 * for Spillway and the peers, with an in-memory fake connection. Run with --expose-gc:
 *
 *   node --expose-gc --import tsx bench/pool-memory.ts [--waiters 1000] [--json]
 */

import { parseArgs } from 'node:util';
import { inMemoryPools } from './in-memory-pools.js';
import { machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: { waiters: { type: 'string', default: '1000' }, json: { type: 'boolean', default: false } },
});
const WAITERS = Number(args.waiters);
const SIZE = 10;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const SUBJECTS = inMemoryPools(SIZE);

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
