/**
 * Spillway's core and its peers over in-memory fake connections, one factory each, so the overhead
 * and memory benchmarks measure the very same set-ups. Every pool: `size` connections, 30 s
 * acquire timeout, no overflow.
 */
import genericPool from 'generic-pool';
import pg from 'pg';
import { Pool as TarnPool } from 'tarn';
import { benchCorePool, FakePgClient } from './support.js';

export interface InMemoryPool {
  acquire(): Promise<unknown>;
  release(handle: unknown): void;
  close(): Promise<void>;
}

export function inMemoryPools(size: number): Record<string, () => InMemoryPool> {
  return {
    spillway: () => {
      const pool = benchCorePool(size);
      return {
        acquire: () => pool.acquire(),
        release: (lease) => (lease as { release(): void }).release(),
        close: () => pool.close({ graceMs: 0 }),
      };
    },
    'generic-pool': () => {
      const pool = genericPool.createPool(
        { create: async () => ({}), destroy: async () => undefined },
        { max: size, min: 0, acquireTimeoutMillis: 30_000 },
      );
      return {
        acquire: () => pool.acquire(),
        release: (c) => void pool.release(c as object),
        close: async () => pool.drain().then(() => pool.clear()),
      };
    },
    'pg-pool': () => {
      const pool = new pg.Pool({ max: size, connectionTimeoutMillis: 30_000, idleTimeoutMillis: 300_000, Client: FakePgClient as never });
      return { acquire: () => pool.connect(), release: (c) => (c as { release(): void }).release(), close: () => pool.end() };
    },
    tarn: () => {
      const pool = new TarnPool({
        create: (cb: (e: Error | null, c: object) => void) => cb(null, {}),
        destroy: () => undefined,
        min: 0,
        max: size,
        acquireTimeoutMillis: 30_000,
      });
      return {
        acquire: () => pool.acquire().promise,
        release: (c) => void pool.release(c as object),
        close: async () => void (await pool.destroy()),
      };
    },
  };
}
