import { EventEmitter } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileDefaults } from '../dist/config/profiles.js';
import type { Connector } from '../dist/pool/connector.js';
import { ConnectionPool } from '../dist/pool/pool.js';

/**
 * The benchmarks measure Spillway as users run it: the compiled package in dist/, not src/ through
 * tsx. tsx's esbuild transform is hard-wired to `keepNames`, so every closure created per call also
 * runs a `__name` helper that redefines the function's name: 1.6 µs per MySQL SELECT 1 in a profile
 * here, plus the defineProperty under it, a cost no user pays and no peer (plain JavaScript) bears.
 * A dist/ older than src/ would measure old code, so it is refused.
 */
function assertFreshBuild(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let builtMs: number;
  try {
    builtMs = statSync(join(root, 'dist', 'index.js')).mtimeMs;
  } catch {
    throw new Error('bench: dist/ is missing; run `npm run build` first (the benchmarks measure the compiled package)');
  }
  const newestSource = (dir: string): number => {
    let newest = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
    }
    return newest;
  };
  let sourceMs = 0;
  try {
    sourceMs = newestSource(join(root, 'src'));
  } catch {
    return; // no src/ beside dist/ (an installed package): nothing to compare
  }
  if (sourceMs > builtMs) {
    throw new Error('bench: dist/ is older than src/; run `npm run build` first (the benchmarks measure the compiled package)');
  }
}
assertFreshBuild();

/** Median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A line naming the machine, for RESULTS.md. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `Node ${process.version}, ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`;
}

/** Percentile of a sorted-or-not array of latencies (ms). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Run `fn` for each contender in every round, interleaved, so drift hits all alike. */
export async function interleaved<T>(
  rounds: number,
  contenders: string[],
  fn: (name: string, round: number) => Promise<T>,
): Promise<Map<string, T[]>> {
  const results = new Map<string, T[]>(contenders.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const name of order) results.get(name)!.push(await fn(name, round));
  }
  return results;
}

/** A connector whose connections are empty objects: measures the pool's own work only. */
export const fakeConnector: Connector<object> = {
  target: 'memory://bench',
  connect: async () => ({}),
  ping: async () => undefined,
  needsReset: () => false,
  reset: async () => undefined,
  close: async () => undefined,
  isDisconnect: () => false,
};

/** Spillway's core with the contract's defaults (production profile: timeouts, pre-ping bypass, stats on) over the fake connector. */
export function benchCorePool(size: number): ConnectionPool<object> {
  const { defaults } = profileDefaults('production');
  const pool = new ConnectionPool<object>(fakeConnector, { ...defaults, name: 'bench', size, maxOverflow: 0, minIdle: 0 });
  pool.start();
  return pool;
}

/** A pg.Client stand-in for pg.Pool, so only pg-pool's own work is measured. */
export class FakePgClient extends EventEmitter {
  _queryable = true;
  _ending = false;
  connect(cb: (err?: Error) => void): void {
    cb();
  }
  end(cb?: () => void): void {
    this.emit('end');
    cb?.();
  }
}

/** One contender of a closed-loop load: a statement to repeat, and how to let go of it. */
export interface LoadContender {
  query(): Promise<unknown>;
  close(): Promise<void>;
}

/** What one closed-loop run measured. */
export interface LoadSample {
  qps: number;
  p99Ms: number;
  /** Client CPU (user + system) per query: steadier on a shared machine, where q/s mostly measures the neighbours. */
  cpuUs: number;
}

/**
 * `callers` loops each awaiting `contender.query()` for `seconds`, after a warm-up call per caller (at
 * least `warmCalls`, which opens every connection). Closes the contender afterwards.
 */
export async function closedLoop(contender: LoadContender, callers: number, seconds: number, warmCalls = 0): Promise<LoadSample> {
  await Promise.all(Array.from({ length: Math.max(callers, warmCalls) }, () => contender.query()));
  const latencies: number[] = [];
  let count = 0;
  const until = performance.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await contender.query();
      latencies.push(performance.now() - t0);
      count++;
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: callers }, loop));
  const used = process.cpuUsage(cpu);
  const elapsed = (performance.now() - started) / 1000;
  await contender.close();
  return { qps: count / elapsed, p99Ms: percentile(latencies, 99), cpuUs: (used.user + used.system) / count };
}
