import { ConfigError } from '../../errors.js';

/** A pragma value as written after `PRAGMA name =`. */
export type PragmaValue = string | number | boolean;

/**
 * The pragmas every Spillway SQLite connection gets, each overridable through
 * `dialectOptions: { pragmas: { name: value } }` (`null` drops one). WAL lets readers run beside the
 * one writer; synchronous=NORMAL is durable across application crashes in WAL mode and much faster.
 */
export function defaultPragmas(lockTimeoutMs: number): Record<string, PragmaValue> {
  return {
    // First, so that even switching to WAL waits politely for another process's lock.
    busy_timeout: Math.round(lockTimeoutMs),
    journal_mode: 'WAL',
    synchronous: 'NORMAL',
    cache_size: -20_000, // 20 MB per connection (negative = KiB)
    mmap_size: 268_435_456, // 256 MB of the file mapped: reads skip a copy
    temp_store: 'MEMORY',
    foreign_keys: 'ON',
  };
}

const NAME = /^[a-z_][a-z0-9_]*$/i;
const VALUE = /^[a-z0-9_.+-]+$/i;

/** The effective pragmas: defaults, then the user's overrides. Names and values are validated, since they are spliced into SQL. */
export function resolvePragmas(lockTimeoutMs: number, overrides: unknown): [string, PragmaValue][] {
  const pragmas: Record<string, PragmaValue | null> = { ...defaultPragmas(lockTimeoutMs) };
  if (overrides !== undefined) {
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new ConfigError('dialectOptions.pragmas', 'dialectOptions.pragmas must be an object of pragma name to value');
    }
    for (const [name, value] of Object.entries(overrides)) {
      const ok =
        value === null || typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && VALUE.test(value));
      if (!NAME.test(name) || !ok) {
        throw new ConfigError(
          `dialectOptions.pragmas.${name}`,
          `dialectOptions.pragmas.${name}=${JSON.stringify(value)} is invalid; accepted: a pragma name with a number, boolean, word, or null to drop it`,
        );
      }
      pragmas[name.toLowerCase()] = value as PragmaValue | null;
    }
  }
  return Object.entries(pragmas).filter((entry): entry is [string, PragmaValue] => entry[1] !== null);
}
