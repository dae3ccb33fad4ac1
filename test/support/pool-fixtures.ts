import type { ConnectionPool as AnyPool, PoolGate } from '../../src/pool/pool.js';
import { ConnectionPool, type CorePoolSettings, type PoolOptions } from '../../src/pool/pool.js';
import { Resilience, type ResilienceConfig, type ResilienceOptions } from '../../src/resilience/resilience.js';
import { type MemoryConnection, MemoryConnector, type MemoryConnectorOptions, testSettings } from './memory-connector.js';

/** A core pool over the in-memory connector, started, with its connector for inspection. */
export function memoryPool(
  settings: Partial<CorePoolSettings> = {},
  connectorOptions: MemoryConnectorOptions = {},
  options: PoolOptions = {},
) {
  const connector = new MemoryConnector(connectorOptions);
  const pool = new ConnectionPool<MemoryConnection>(connector, testSettings(settings), options);
  pool.start();
  return { pool, connector };
}

/**
 * The breaker and leak detector a pool is born with (its `gate` option), and access to them once the
 * pool is built: `const r = resilienceFor(...); memoryPool(settings, {}, { gate: r.gate }); r.breaker`.
 */
export function resilienceFor(config: ResilienceConfig, isConnectivityFailure: (error: unknown) => boolean, options?: ResilienceOptions) {
  let built: Resilience | undefined;
  const get = (): Resilience => {
    if (built === undefined) throw new Error('the pool was not built with this gate');
    return built;
  };
  return {
    gate: (pool: AnyPool<unknown>): PoolGate | undefined => {
      built = new Resilience(pool, config, isConnectivityFailure, options);
      return built.gate;
    },
    get breaker() {
      const breaker = get().breaker;
      if (breaker === undefined) throw new Error('built without a breaker');
      return breaker;
    },
    get leaks() {
      return get().leaks;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wait until `predicate` holds (polling), failing after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
