import type { Clock } from './clock.js';
import type { Connector } from './connector.js';
import { EntryState, type PoolEntry } from './entry.js';
import type { PoolEventMap, PoolEventName } from './events.js';
import type { Lease } from './lease.js';
import type { CorePoolSettings, PoolGate } from './pool-settings.js';
import type { CloseReason, PoolStats, PoolStatus } from './status.js';
import type { Waiter, WaiterQueue } from './waiter-queue.js';

/**
 * The entries of one pool and their counts by state. Every entry is in exactly one state; counts
 * change only through {@link setState} and {@link forget}, never by hand. The arrays are shared with
 * the pool, whose hot path reads them directly.
 */
export class PoolEntries<C> {
  readonly all = new Set<PoolEntry<C>>();
  /** Idle entries, most recently used at the end: reuse MRU so surplus ages out from the front. */
  readonly idle: PoolEntry<C>[] = [];
  readonly counts: [number, number, number, number] = [0, 0, 0, 0];
  /** Closes in progress (their sockets not yet gone). */
  readonly closing = new Set<Promise<void>>();
  /** While the pool closes: called when the last borrowed connection comes back. */
  readonly drain: { onDrained: (() => void) | undefined } = { onDrained: undefined };
  readonly #closingHoldsSlot: boolean;

  constructor(closingHoldsSlot: boolean) {
    this.#closingHoldsSlot = closingHoldsSlot;
  }

  /** A new entry, opening. */
  add(entry: PoolEntry<C>): void {
    this.all.add(entry);
    this.counts[EntryState.Opening]++;
  }

  setState(entry: PoolEntry<C>, state: EntryState): void {
    this.counts[entry.state]--;
    this.counts[state]++;
    entry.state = state;
  }

  /** The entry's connection is gone: drop it from the counts. */
  forget(entry: PoolEntry<C>): void {
    this.counts[entry.state]--;
    this.all.delete(entry);
  }

  /** Connections that count against max: all of them, or all but those closing (see closingHoldsSlot). */
  slotsTaken(): number {
    return this.#closingHoldsSlot ? this.all.size : this.all.size - this.counts[EntryState.Closing];
  }

  count(state: EntryState): number {
    return this.counts[state];
  }

  /** The pool's status snapshot (one type for endpoints, metrics, CLI and dashboard). */
  status(settings: Readonly<CorePoolSettings>, max: number, waiting: number, closed: boolean): PoolStatus {
    const [opening, checkedIn, checkedOut, closing] = this.counts;
    const total = checkedIn + checkedOut + opening + closing;
    return {
      name: settings.name,
      size: settings.size,
      maxOverflow: settings.maxOverflow,
      max,
      checkedIn,
      checkedOut,
      overflow: Math.max(0, total - settings.size),
      opening,
      closing,
      total,
      waiting,
      closed,
    };
  }
}

/** Checkout context of an `internal` acquire: what the gate admitted it with, marked as the library's own. */
export class InternalCheckout {
  constructor(readonly admitted: unknown) {}
}

/**
 * What the pool's helpers (connection opener, validation, housekeeper, shutdown) may do with it. The
 * pool builds one at construction; its own hot path does not go through it.
 */
export interface PoolCore<C> {
  readonly name: string;
  readonly settings: Readonly<CorePoolSettings>;
  readonly clock: Clock;
  readonly connector: Connector<C>;
  readonly entries: PoolEntries<C>;
  readonly stats: PoolStats;
  readonly queue: WaiterQueue<Lease<C>>;
  readonly max: number;
  closing(): boolean;
  gate(): PoolGate | undefined;
  emit<K extends PoolEventName>(event: K, ...args: PoolEventMap[K]): boolean;
  listenerCount(event: PoolEventName): number;
  /** A healthy entry comes back (or a new one arrives): lend it to the head waiter, keep it idle or close it. */
  giveBack(entry: PoolEntry<C>, now: number): void;
  /** Hand `entry` to `waiter`, who waited since `waiter.enqueuedAt`. */
  settle(waiter: Waiter<Lease<C>>, entry: PoolEntry<C>, now: number): void;
  /** Discard an entry after an error (a disconnect marks the whole pool suspect). */
  discard(entry: PoolEntry<C>, reason: CloseReason, error: unknown): void;
  /** Close an entry's connection, keeping its slot until the socket is gone. */
  destroy(entry: PoolEntry<C>, reason: CloseReason): void;
  /** The driver reported an error on a connection. */
  broken(entry: PoolEntry<C>, error: unknown): void;
  /** Keep `minIdle` connections open. */
  topUp(): void;
  timeOut(waiter: Waiter<Lease<C>>, now: number): void;
  /** Match idle connections with waiters, and open new ones while waiters outnumber openings. */
  dispatch(): void;
  /** Mark every connection opened up to now as suspect (see ConnectionPool.invalidateAll). */
  invalidateAll(reason: string, error?: unknown): void;
}
