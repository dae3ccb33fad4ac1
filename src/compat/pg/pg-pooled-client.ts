import type { Client } from 'pg';
import { clientFlags } from '../../dialect/postgres/pg-internals.js';
import type { Lease } from '../../pool/lease.js';

/**
 * What the facade keeps about each client it opened: pg-pool keeps the same things in its lists and
 * on the client (`release`, `_poolUseCount`). One object per client, reached through a symbol
 * property, so the checkout path reads a field rather than a map.
 */
export class PooledClientState {
  /** The checkout holding the client; undefined while it is idle. */
  lease: Lease<Client> | undefined = undefined;
  /** Connected and through `onConnect`: 'connect' was emitted, so 'remove' will be. */
  connected = false;
  /** `verify` ran (pg-pool verifies a client at its first checkout). */
  verified = false;
  /** pg-pool's idle timer, made once and re-armed (`refresh()`) at each release. */
  idleTimer: NodeJS.Timeout | undefined = undefined;
  /** Armed at a release for `idleTimeoutMillis`; a checkout disarms it (the timer may still fire, as a no-op). */
  idleArmed = false;
  lifetimeTimer: NodeJS.Timeout | undefined = undefined;
  /** Past `maxLifetimeSeconds` while lent: removed at its release. */
  expired = false;
  /** The error that removed it while idle; pg-pool only logs later ones. */
  brokenBy: unknown = undefined;
  /** Being closed or closed. */
  removed = false;
}

/** pg.Client's fields that pg-pool reads or writes, and its socket ref/unref (untyped in @types/pg). */
export interface PooledClientFields {
  _poolUseCount?: number;
  connection?: { stream?: { destroy(): void } };
  isConnected?(): boolean;
  ref?(): void;
  unref?(): void;
}

const STATE: unique symbol = Symbol('spillway.pooledClient');
type WithState = Client & PooledClientFields & { [STATE]?: PooledClientState };

/** Give a new client its state (before it connects). */
export function attachState(client: Client): PooledClientState {
  const state = new PooledClientState();
  (client as WithState)[STATE] = state;
  return state;
}

/** The state of a client this facade opened. */
export function stateOf(client: Client): PooledClientState {
  return (client as WithState)[STATE] as PooledClientState;
}

/**
 * Whether a released client can take another query: pg-pool's test, on pg's private `_queryable` and
 * `_ending` (false once the holder called `end()` or the connection broke). A client class without
 * them (a test double) counts as unusable, as in pg-pool.
 */
export function canWork(client: Client): boolean {
  const { queryable, ending } = clientFlags(client);
  return Boolean(queryable) && !ending;
}

/** Count one more release, as pg-pool does on the client itself; returns the uses so far. */
export function countUse(client: Client): number {
  const fields = client as PooledClientFields;
  const uses = (fields._poolUseCount || 0) + 1;
  fields._poolUseCount = uses;
  return uses;
}

/**
 * Cut the client's socket (pg's connection stream) at once, or end a client that has none, as pg-pool
 * does when a connect runs past `connectionTimeoutMillis`. Never throws.
 */
export function cutClient(client: Client): void {
  const fields = client as PooledClientFields;
  try {
    if (fields.connection?.stream !== undefined) fields.connection.stream.destroy();
    else Promise.resolve((client.end as () => unknown)()).catch(() => undefined);
  } catch {
    // A client that cannot even be ended is dropped all the same.
  }
}
