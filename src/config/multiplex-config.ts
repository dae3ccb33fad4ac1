import { ConfigError } from '../errors.js';
import { showValue } from './show-value.js';

/** How plain statements share connections (PostgreSQL pipelining); see docs/multiplexing.md. */
export interface MultiplexSettings {
  /** False: every statement borrows a connection of its own. */
  readonly enabled: boolean;
  /** Statements in flight at once on one shared connection. */
  readonly maxInFlight: number;
}

/** The `multiplex` option as users write it. */
export type MultiplexOption = boolean | { maxInFlight?: number };

/** Default bound: enough that 10 connections carry 1000 callers without queueing, small enough to bound a broken connection's blast radius. */
export const DEFAULT_MAX_IN_FLIGHT = 100;
const MAX_IN_FLIGHT_LIMIT = 10_000;

/**
 * Resolve `multiplex` (option) over `DB_MULTIPLEX_MAX_IN_FLIGHT` (environment: a bound, `true`, or
 * 0/`false` = off). On by default; only dialects that can pipeline use it (PostgreSQL).
 * Invalid values throw CONFIG_INVALID naming the variable.
 */
export function resolveMultiplex(option: unknown, env: Record<string, string | undefined>): MultiplexSettings {
  if (option !== undefined) {
    if (option === false) return OFF;
    if (option === true) return ON;
    if (typeof option !== 'object' || option === null || Array.isArray(option)) {
      throw new ConfigError('multiplex', `multiplex=${String(option)} is invalid; accepted: true, false or { maxInFlight }`);
    }
    for (const key of Object.keys(option)) {
      if (key !== 'maxInFlight')
        throw new ConfigError(`multiplex.${key}`, `Unknown option "multiplex.${key}"; accepted: multiplex.maxInFlight`);
    }
    const value = (option as { maxInFlight?: unknown }).maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    return Object.freeze({ enabled: true, maxInFlight: checkBound('multiplex.maxInFlight', value, value, 1) });
  }
  const raw = env.DB_MULTIPLEX_MAX_IN_FLIGHT?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'true') return ON;
  if (raw === 'false') return OFF;
  const parsed = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  const maxInFlight = checkBound('DB_MULTIPLEX_MAX_IN_FLIGHT', parsed, raw, 0);
  return maxInFlight > 0 ? Object.freeze({ enabled: true, maxInFlight }) : OFF;
}

const ON: MultiplexSettings = Object.freeze({ enabled: true, maxInFlight: DEFAULT_MAX_IN_FLIGHT });
const OFF: MultiplexSettings = Object.freeze({ enabled: false, maxInFlight: DEFAULT_MAX_IN_FLIGHT });

function checkBound(name: string, value: unknown, shown: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_IN_FLIGHT_LIMIT) {
    throw new ConfigError(
      name,
      `${name}=${showValue(shown)} is invalid; accepted: a whole number from ${min} to ${MAX_IN_FLIGHT_LIMIT}${min === 0 ? ', true, or 0/false = off' : ''}`,
    );
  }
  return value;
}
