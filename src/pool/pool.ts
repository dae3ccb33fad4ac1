import { EventEmitter } from 'node:events';
import { AcquireAbortedError, PoolClosedError } from '../errors.js';
import { ConnectionCare } from './care.js';
import { type Clock, coarseNow, systemClock } from './clock.js';
import { ConnectionOpener } from './connection-opener.js';
import type { Connector } from './connector.js';
import { EntryState, type PoolEntry } from './entry.js';
import type { PoolEventMap, PoolEventName } from './events.js';
import { Housekeeper } from './housekeeper.js';
import { Lease, type LeaseOwner } from './lease.js';
import { InternalCheckout, type PoolCore, PoolEntries } from './pool-core.js';
import type { AcquireOptions, CorePoolSettings, PoolGate, PoolGateOptions } from './pool-settings.js';
import { shutdown } from './shutdown.js';
import { newStats, type PoolStats, type PoolStatus } from './status.js';
import { validateFor } from './validation.js';
import { type Waiter, WaiterQueue } from './waiter-queue.js';
import { enqueue, timeOut } from './waiting.js';

export type { AcquireOptions, CorePoolSettings, PoolGate } from './pool-settings.js';

/** What a pool is born with besides its connector and settings (see {@link PoolGateOptions}). */
export type PoolOptions = PoolGateOptions<ConnectionPool<unknown>>;

/** `since` of a checkout served from the idle stack at once, without waiting. */
const LENT_AT_ONCE = -1;

/** Checkout context of `acquire({ shared: true })`: a carrier lease for shared statements. */
const CARRIER: unique symbol = Symbol('carrier');

/**
 * The connection pool core (SQLAlchemy QueuePool semantics, HikariCP care). It decides who borrows
 * what; the connector cares for the physical connections. Knows no SQL.
 */
// Typed events over the untyped EventEmitter (declaration merging keeps 'newListener' usable inside).
// biome-ignore lint/correctness/noUnusedVariables: the type parameter must match the class for declaration merging
export interface ConnectionPool<C> {
  on<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this;
  once<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this;
  off<K extends PoolEventName>(event: K, listener: (...args: PoolEventMap[K]) => void): this;
  emit<K extends PoolEventName>(event: K, ...args: PoolEventMap[K]): boolean;
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed events, see the interface above
export class ConnectionPool<C> extends EventEmitter implements LeaseOwner<C> {
  readonly name: string;
  readonly settings: Readonly<CorePoolSettings>;
  /** Time and timers of this pool and its helpers (the system's unless a test passes its own). */
  readonly clock: Clock;
  /** The system clock: the hot path reads the shared coarse clock directly, without the indirection. */
  readonly #systemClock: boolean;
  readonly #connector: Connector<C>;
  readonly #max: number;
  /** settings.size: the most idle connections kept. */
  readonly #size: number;
  readonly #entries: PoolEntries<C>;
  /** The entries' idle stack and counts by state (shared arrays): the hot path reads them directly. */
  readonly #idle: PoolEntry<C>[];
  readonly #counts: [number, number, number, number];
  readonly #queue: WaiterQueue<Lease<C>>;
  readonly #stats: PoolStats = newStats();
  /** Idle entries created at or before this moment must be validated before reuse. */
  #invalidatedAt = -Infinity;
  #closing: Promise<void> | undefined = undefined;
  readonly #core: PoolCore<C>;
  readonly #opener: ConnectionOpener<C>;
  readonly #housekeeper: Housekeeper<C>;
  /** The physical connections' care: closing, discarding, reclaiming a leak (the leak detector's entry point). */
  readonly care: ConnectionCare<C>;
  /** Listener flags, so the hot path allocates no event objects nobody reads. */
  #observeCheckout = false;
  #observeCheckin = false;
  /** A checkout or checkin listener, or the gate's `lent` hook: lending takes the observed path. */
  #watched = false;
  #gate: PoolGate | undefined = undefined;
  /** Settings read on every checkout, folded into one number each (Infinity = never). */
  readonly #maxUses: number;
  readonly #pingAfterIdleMs: number;

  constructor(connector: Connector<C>, settings: CorePoolSettings, options: PoolOptions = {}) {
    super();
    this.#connector = connector;
    this.settings = Object.freeze({ ...settings });
    this.name = settings.name;
    this.#max = settings.size + settings.maxOverflow;
    this.#size = settings.size;
    this.#maxUses = settings.maxUses > 0 ? settings.maxUses : Number.POSITIVE_INFINITY;
    this.#pingAfterIdleMs = settings.prePing ? settings.prePingBypassMs : Number.POSITIVE_INFINITY;
    this.#entries = new PoolEntries<C>(settings.closingHoldsSlot !== false);
    this.#idle = this.#entries.idle;
    this.#counts = this.#entries.counts;
    this.clock = options.clock ?? systemClock;
    this.#systemClock = this.clock === systemClock;
    this.#queue = new WaiterQueue<Lease<C>>((waiter, now) => this.#core.timeOut(waiter, now), this.clock);
    this.#core = this.#coreView(connector);
    this.#opener = new ConnectionOpener(this.#core);
    this.#housekeeper = new Housekeeper(this.#core);
    this.care = new ConnectionCare(this.#core, this.#opener);
    EventEmitter.prototype.on.call(this, 'newListener', (event: string) => this.#observe(event as PoolEventName, true));
    EventEmitter.prototype.on.call(this, 'removeListener', (event: string) => this.#observe(event as PoolEventName, false));
    // Last: the gate's builder gets a pool whose every field is set.
    this.#gate = options.gate?.(this as unknown as ConnectionPool<unknown>);
    this.#watched = this.#gate?.lent !== undefined;
  }

  /** Open `minIdle` connections and start the housekeeper. Called once by createPool. */
  start(): void {
    if (this.#housekeeper.running || this.#closing !== undefined) return;
    this.#housekeeper.start();
    this.care.topUp();
  }

  /** Resolves once `minIdle` connections are open (or rejects with the first connect failure). */
  async warm(): Promise<void> {
    await this.#opener.warm();
  }

  /**
   * Open one more connection and keep it idle, bypassing the gate's admit (start-up retries use it).
   * Rejects with the connect failure.
   */
  async probe(): Promise<void> {
    if (this.#closing !== undefined) throw new PoolClosedError(this.name);
    if (this.#entries.slotsTaken() < this.#max) await this.#opener.open(true);
  }

  /**
   * Borrow a connection. Resolves with a {@link Lease}; release it exactly once.
   * Waiters are served first come, first served; a wait longer than the timeout rejects POOL_TIMEOUT.
   */
  acquire(options?: AcquireOptions): Promise<Lease<C>> {
    if (options !== undefined || this.#gate !== undefined || this.#closing !== undefined) return this.#admit(options);
    return this.#acquire(undefined, undefined);
  }

  /**
   * acquire() that never waits: a connection lent on the caller's stack, or `undefined` where acquire()
   * would wait, validate or open one. Throws what the gate throws (CIRCUIT_OPEN). For synchronous
   * statements (better-sqlite3) that give the lease back before yielding: it cannot leak (no call-site
   * trace: `admitShared`), and the connection just returned is lent next, its caches warm.
   */
  tryAcquire(): Lease<C> | undefined {
    if (this.#closing !== undefined) return undefined;
    const now = this.#coarse();
    const entry = this.#newestFit(now);
    if (entry === undefined) return undefined;
    const gate = this.#gate;
    if (gate !== undefined) gate.admitShared !== undefined ? gate.admitShared() : gate.admit?.();
    return this.#lendNewest(entry, now, undefined);
  }

  /** The hooks of the resilience and leak layers (see {@link PoolGate}), fixed at construction. */
  get gate(): PoolGate | undefined {
    return this.#gate;
  }

  /** acquire() past its fast path: a closed pool, options, or a gate to admit the caller. */
  #admit(options: AcquireOptions | undefined): Promise<Lease<C>> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError(this.name));
    if (options?.shared) return this.#acquire(options, CARRIER); // admitted statement by statement (see AcquireOptions.shared)
    if (options?.signal?.aborted) return Promise.reject(new AcquireAbortedError(this.name, options.signal.reason));
    let context: unknown;
    if (this.#gate?.admit !== undefined) {
      try {
        context = this.#gate.admit();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#acquire(options, options?.internal ? new InternalCheckout(context) : context);
  }

  /**
   * The common case in few bytecodes, so that V8 inlines it whole into the caller: the newest idle
   * entry is fit to lend as it is (no waiter ahead, inside its pre-ping bypass window, not due for
   * recycling, not suspect). Everything else goes the long way.
   */
  #acquire(options: AcquireOptions | undefined, context: unknown): Promise<Lease<C>> {
    const now = this.#coarse();
    const entry = this.#newestFit(now);
    if (entry !== undefined) return Promise.resolve(this.#lendNewest(entry, now, context));
    return this.#acquireSlow(options, context);
  }

  /** The newest idle entry if it can be lent as it is and nobody waits ahead (see #acquire). */
  #newestFit(now: number): PoolEntry<C> | undefined {
    const idle = this.#idle;
    // Never idle[-1]: a key that is no array index turns the load generic for good.
    if (idle.length === 0 || this.#queue.size !== 0) return undefined;
    const entry = idle[idle.length - 1] as PoolEntry<C>;
    return this.#wornOut(entry, now) || this.#needsPing(entry, now) ? undefined : entry;
  }

  /** Lend the entry {@link #newestFit} found, the last of the idle stack. */
  #lendNewest(entry: PoolEntry<C>, now: number, context: unknown): Lease<C> {
    this.#idle.pop();
    this.#setState(entry, EntryState.InUse);
    return this.#lend(entry, now, LENT_AT_ONCE, context);
  }

  #acquireSlow(options: AcquireOptions | undefined, context: unknown): Promise<Lease<C>> {
    if (this.#queue.size === 0 && this.#idle.length > 0) {
      const now = this.#coarse();
      const entry = this.#takeIdle(now);
      if (entry !== undefined && !this.#needsPing(entry, now)) {
        return Promise.resolve(this.#lend(entry, now, LENT_AT_ONCE, context));
      }
      if (entry !== undefined) {
        // Needs validation: go through the queue so ordering and deadlines stay in one place.
        const promise = enqueue(this.#core, options, now, context, this.#observeCheckout);
        validateFor(this.#core, entry);
        return promise;
      }
    }
    // Precise time only when someone reads the wait (checkout events); otherwise the coarse clock,
    // with deadlines pushed one tick later so a timeout never fires early.
    const now = this.#observeCheckout ? this.clock.now() : this.#coarse();
    const promise = enqueue(this.#core, options, now, context, this.#observeCheckout);
    this.#dispatch();
    return promise;
  }

  /** A snapshot of the pool, cheap enough to call on every request. */
  status(): PoolStatus {
    return this.#entries.status(this.settings, this.#max, this.#queue.size, this.#closing !== undefined);
  }

  /** Counters since start (a copy). */
  stats(): PoolStats {
    return { ...this.#stats, closedByReason: { ...this.#stats.closedByReason } };
  }

  /** The last connect failure, if any (the cause of a POOL_TIMEOUT). */
  get lastConnectError(): unknown {
    return this.#opener.lastConnectError;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Mark every connection opened up to now as suspect (SQLAlchemy's pool invalidation): idle ones are
   * validated before their next checkout, lent ones are validated when returned.
   */
  invalidateAll(reason: string, error?: unknown): void {
    this.#invalidatedAt = this.clock.now();
    this.emit('invalidate', { connectionId: undefined, reason, error });
  }

  /** LeaseOwner: a lease returns its entry. */
  checkin(entry: PoolEntry<C>, lease: Lease<C>, error: unknown): void {
    if (entry.lease !== lease) return; // reclaimed or already discarded
    entry.lease = undefined;
    const now = this.#observeCheckin ? this.#checkinObserved(entry) : this.#coarse();
    entry.uses++;
    entry.lastUsedAt = now;
    if (error !== undefined || entry.broken || this.#connector.needsReset(entry.connection as C)) {
      this.care.checkinDirty(entry, error);
      return;
    }
    this.#return(entry, now);
  }

  /** The precise time of a checkin someone listens to, after telling them. */
  #checkinObserved(entry: PoolEntry<C>): number {
    const now = this.clock.now();
    if (!entry.carrier) this.emit('checkin', { connectionId: entry.id, heldMs: now - entry.checkedOutAt });
    return now;
  }

  /**
   * Stop new checkouts (POOL_CLOSED), wait up to `graceMs` for borrowed connections, then close all.
   * Idempotent: later calls return the same promise.
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closing === undefined) {
      this.#housekeeper.stop();
      this.#opener.stop();
      this.#closing = shutdown(this.#core, options.graceMs ?? 30_000);
    }
    return this.#closing;
  }

  #observe(event: PoolEventName, adding: boolean): void {
    // Listener counts change after this callback on removal, so read them on the next tick.
    if (event === 'checkout' || event === 'checkin') {
      queueMicrotask(() => this.#setObserved(event, this.listenerCount(event) > 0));
      if (adding) this.#setObserved(event, true);
    }
  }

  #setObserved(event: 'checkout' | 'checkin', observed: boolean): void {
    if (event === 'checkout') this.#observeCheckout = observed;
    else this.#observeCheckin = observed;
    this.#watched = this.#gate?.lent !== undefined || this.#observeCheckout || this.#observeCheckin;
  }

  #coarse(): number {
    return this.#systemClock ? coarseNow() : this.clock.coarse();
  }

  #setState(entry: PoolEntry<C>, state: EntryState): void {
    this.#counts[entry.state]--;
    this.#counts[state]++;
    entry.state = state;
  }

  #takeIdle(now: number): PoolEntry<C> | undefined {
    let entry = this.#idle.pop();
    while (entry !== undefined && this.#wornOut(entry, now)) {
      this.#stats.recycled++;
      this.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
      this.care.destroy(entry, 'recycled');
      entry = this.#idle.pop();
    }
    if (entry !== undefined) this.#setState(entry, EntryState.InUse);
    return entry;
  }

  #needsPing(entry: PoolEntry<C>, now: number): boolean {
    if (entry.validatedAt <= this.#invalidatedAt) return true;
    return now - entry.lastUsedAt >= this.#pingAfterIdleMs;
  }

  /** Old enough to recycle, or used `maxUses` times. */
  #wornOut(entry: PoolEntry<C>, now: number): boolean {
    return now >= entry.expiresAt || entry.uses >= this.#maxUses;
  }

  #lend(entry: PoolEntry<C>, now: number, since: number, context: unknown): Lease<C> {
    const lease = new Lease<C>(this, entry);
    entry.lease = lease;
    this.#stats.checkouts++;
    entry.carrier = context === CARRIER;
    entry.checkedOutAt = now;
    if (this.#watched) this.#lendObserved(entry, since, context);
    return lease;
  }

  /** Durations someone reads (checkout/checkin events, leak detection) get the precise clock. */
  #lendObserved(entry: PoolEntry<C>, since: number, context: unknown): void {
    const now = this.clock.now();
    entry.checkedOutAt = now;
    const internal = context instanceof InternalCheckout;
    this.#gate?.lent?.(entry as PoolEntry<unknown>, entry.carrier ? undefined : internal ? context.admitted : context);
    // A caller served at once waited for nothing; its `now` is the coarse clock, up to a tick old.
    if (this.#observeCheckout && !entry.carrier) {
      const waitMs = since === LENT_AT_ONCE ? 0 : now - since;
      this.emit('checkout', internal ? { connectionId: entry.id, waitMs, internal } : { connectionId: entry.id, waitMs });
    }
  }

  /** Match idle connections with waiters, and open new ones while waiters outnumber openings. */
  #dispatch(): void {
    while (this.#queue.size > 0) {
      const now = this.#coarse();
      const entry = this.#takeIdle(now);
      if (entry === undefined) break;
      if (this.#needsPing(entry, now)) {
        validateFor(this.#core, entry);
        continue;
      }
      const waiter = this.#queue.shift() as Waiter<Lease<C>>;
      this.#settle(waiter, entry, now);
    }
    while (this.#queue.size > this.#counts[EntryState.Opening] && this.#entries.slotsTaken() < this.#max && this.#closing === undefined) {
      void this.#opener.open(false);
    }
    // Callers wait on attempts that may all be stuck (see ConnectionOpener's hedging).
    if (this.#queue.size > 0 && this.#counts[EntryState.Opening] > 0) this.#opener.hedgeIfDue(this.#coarse());
  }

  #settle(waiter: Waiter<Lease<C>>, entry: PoolEntry<C>, now: number): void {
    waiter.live = false;
    waiter.cleanup?.();
    this.#stats.waits++;
    waiter.resolve(this.#lend(entry, now, waiter.enqueuedAt, waiter.context));
  }

  /** A healthy entry comes back: hand it to the head waiter, or keep it idle, or close it as overflow. */
  #return(entry: PoolEntry<C>, now: number): void {
    // The common case in few bytecodes (see #acquire): nobody waits, room among the idle, still young.
    // (#onDrained is set only while closing.)
    if (this.#queue.size === 0 && this.#idle.length < this.#size && this.#closing === undefined && !this.#wornOut(entry, now)) {
      this.#setState(entry, EntryState.Idle);
      this.#idle.push(entry);
      return;
    }
    this.#returnSlow(entry, now);
  }

  #returnSlow(entry: PoolEntry<C>, now: number): void {
    if (this.#closing !== undefined) {
      this.care.destroy(entry, 'closed');
      return;
    }
    if (this.#wornOut(entry, now)) {
      this.#stats.recycled++;
      this.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
      this.care.destroy(entry, 'recycled');
      this.#dispatch();
      return;
    }
    if (entry.validatedAt <= this.#invalidatedAt) {
      // Opened before a disconnect elsewhere: validate before anyone gets it.
      if (this.#queue.size > 0) {
        validateFor(this.#core, entry);
        return;
      }
    } else if (this.#queue.size > 0) {
      this.#settle(this.#queue.shift() as Waiter<Lease<C>>, entry, now);
      return;
    }
    if (this.#idle.length >= this.#size) {
      this.care.destroy(entry, 'overflow');
      return;
    }
    this.#setState(entry, EntryState.Idle);
    this.#idle.push(entry);
    if (this.#counts[EntryState.InUse] === 0) this.#entries.drain.onDrained?.();
  }

  /** What the helpers (opener, validation, housekeeper, shutdown) may do with this pool. */
  #coreView(connector: Connector<C>): PoolCore<C> {
    return {
      name: this.name,
      settings: this.settings,
      clock: this.clock,
      connector,
      entries: this.#entries,
      stats: this.#stats,
      queue: this.#queue,
      max: this.#max,
      closing: () => this.#closing !== undefined,
      gate: () => this.#gate,
      emit: (event, ...args) => this.emit(event, ...args),
      listenerCount: (event) => this.listenerCount(event),
      giveBack: (entry, now) => this.#return(entry, now),
      settle: (waiter, entry, now) => this.#settle(waiter, entry, now),
      discard: (entry, reason, error) => this.care.discard(entry, reason, error),
      destroy: (entry, reason) => this.care.destroy(entry, reason),
      broken: (entry, error) => this.care.broken(entry, error),
      timeOut: (waiter, now) => timeOut(this.#core, waiter, now, this.status(), this.#opener.lastConnectError),
      dispatch: () => this.#dispatch(),
      topUp: () => this.care.topUp(),
      invalidateAll: (reason, error) => this.invalidateAll(reason, error),
    };
  }
}
