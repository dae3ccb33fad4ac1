import { ConnectionPool, type CorePoolSettings } from '../../src/pool/pool.js';
import { type MemoryConnection, MemoryConnector, type MemoryConnectorOptions, testSettings } from './memory-connector.js';

/** A core pool over the in-memory connector, started, with its connector for inspection. */
export function memoryPool(settings: Partial<CorePoolSettings> = {}, connectorOptions: MemoryConnectorOptions = {}) {
  const connector = new MemoryConnector(connectorOptions);
  const pool = new ConnectionPool<MemoryConnection>(connector, testSettings(settings));
  pool.start();
  return { pool, connector };
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
