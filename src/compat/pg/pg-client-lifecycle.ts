import type { Client } from 'pg';
import type { PgClientEvents } from './pg-client-connector.js';
import { countUse, type PooledClientState } from './pg-pooled-client.js';

/** What the per-client timers need from the pool. */
export interface LifecycleHost {
  /** pg.Pool's totalCount right now. */
  totalCount(): number;
  /** The core's retire(): close an idle client now, a lent one at its return ('recycled'). */
  retire(client: Client, reason: 'idle' | 'recycled'): void;
  emit(event: string, ...args: unknown[]): void;
  hasErrorListener(): boolean;
  log(message: string, detail?: unknown): void;
  /** pg-pool's queue-pass log lines after a removal. */
  logPulse(): void;
  /** A client has just left the count (totalCount is already lower). */
  left(): void;
}

/** pg.Pool's settings that time a client. */
export interface LifecycleSettings {
  min: number;
  /** 0: idle clients stay. */
  idleTimeoutMillis: number;
  /** 0: no lifetime. */
  maxLifetimeSeconds: number;
  maxUses: number;
  allowExitOnIdle: boolean;
}

/**
 * pg-pool's life of one client, timed per client as pg-pool times it: the idle timer armed at each
 * release while the pool is above `min` (and re-checked when it fires), the lifetime timer from its
 * connect, the 'connect', 'error' and 'remove' events, and `expiredCount`. The core never reaps,
 * recycles or tops up on its own for the facade; it closes what this asks it to (`retire`).
 */
export class PgClientLifecycle implements PgClientEvents {
  readonly #host: LifecycleHost;
  readonly #settings: LifecycleSettings;
  #expired = 0;

  constructor(host: LifecycleHost, settings: LifecycleSettings) {
    this.#host = host;
    this.#settings = settings;
  }

  /** Lent clients past maxLifetimeSeconds (pg.Pool's expiredCount). */
  get expiredCount(): number {
    return this.#expired;
  }

  /**
   * Arm the client's idle timer as it goes back, while the pool is above `min`. One timer per client,
   * re-armed with `refresh()`; a checkout disarms it (`state.idleArmed`) rather than clearing it, so a
   * release costs no timer allocation.
   */
  armIdle(client: Client, state: PooledClientState): void {
    const idleMs = this.#settings.idleTimeoutMillis;
    if (idleMs === 0 || (this.#settings.min > 0 && this.#host.totalCount() <= this.#settings.min)) return;
    state.idleArmed = true;
    if (state.idleTimer !== undefined) {
      state.idleTimer.refresh();
      return;
    }
    state.idleTimer = setTimeout(() => this.#idleTimedOut(client, state), idleMs);
    // pg-pool's idle timer keeps the process alive unless allowExitOnIdle.
    if (this.#settings.allowExitOnIdle) state.idleTimer.unref();
  }

  #idleTimedOut(client: Client, state: PooledClientState): void {
    if (!state.idleArmed || state.lease !== undefined || state.removed) return;
    if (this.#host.totalCount() <= this.#settings.min) return;
    state.idleArmed = false;
    this.#host.log('remove idle client');
    this.#host.retire(client, 'idle');
  }

  /** Connected and through onConnect: its lifetime timer starts, 'connect' is emitted. */
  opened(client: Client, state: PooledClientState): void {
    const lifetimeMs = this.#settings.maxLifetimeSeconds * 1000;
    if (lifetimeMs > 0) {
      state.lifetimeTimer = setTimeout(() => this.#lifetimeEnded(client, state), lifetimeMs);
      state.lifetimeTimer.unref();
    }
    this.#host.emit('connect', client);
  }

  /**
   * pg-pool's lifetime timer: a lent client is marked expired (removed at its release); an idle one
   * is checked out and released at once, so it leaves through the same steps ('acquire', 'release',
   * removal) as any other.
   */
  #lifetimeEnded(client: Client, state: PooledClientState): void {
    this.#host.log('ending client due to expired lifetime');
    if (state.removed) return;
    if (state.lease !== undefined) {
      if (!state.expired) {
        state.expired = true;
        this.#expired++;
      }
      return;
    }
    this.#host.emit('acquire', client);
    const uses = countUse(client);
    this.#host.emit('release', undefined, client);
    this.#host.log(uses >= this.#settings.maxUses ? 'remove expended client' : 'remove expired client');
    this.#host.retire(client, 'recycled');
  }

  /**
   * pg's 'error' on a client. An idle client is removed at once and reported with the pool's 'error'
   * event (the client as its `client` field and second argument); a lent one is its holder's to handle
   * and is removed at release if it cannot work. Unlike pg.Pool, no listener means no crash.
   */
  errored(client: Client, state: PooledClientState, error: unknown, drop: (error: unknown) => void): void {
    if (state.brokenBy !== undefined) {
      this.#host.log('additional client error after disconnection due to error', state.brokenBy);
      return;
    }
    // Connecting (pg reports that to the connect callback), lent, or already on its way out.
    if (!state.connected || state.lease !== undefined || state.removed) return;
    state.brokenBy = error;
    if (error !== null && typeof error === 'object') (error as { client?: Client }).client = client;
    drop(error);
    if (this.#host.hasErrorListener()) this.#host.emit('error', error, client);
  }

  /** Removal begins (synchronously, inside the core's close): its timers stop and it no longer counts as expired. */
  closing(_client: Client, state: PooledClientState): void {
    state.removed = true;
    clearTimeout(state.idleTimer);
    clearTimeout(state.lifetimeTimer);
    if (state.expired) {
      state.expired = false;
      this.#expired--;
    }
    this.#host.left();
  }

  /** The client has ended: 'remove', for clients that had been announced with 'connect'. */
  closed(client: Client, state: PooledClientState): void {
    if (state.connected) this.#host.emit('remove', client);
    this.#host.logPulse();
  }
}
