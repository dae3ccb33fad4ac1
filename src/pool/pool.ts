import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AcquireAbortedError, ConnectionLostError, ConnectTimeoutError, PoolClosedError, PoolTimeoutError } from '../errors.js';
import { coarseNow, retainClock, TICK_MS } from './clock.js';
import type { Connector } from './connector.js';
import { EntryState, PoolEntry } from './entry.js';
import type { PoolEventMap, PoolEventName } from './events.js';
import { Lease, type LeaseOwner } from './lease.js';
import type { CloseReason, PoolStats, PoolStatus } from './status.js';
import { Waiter, WaiterQueue } from './waiter-queue.js';

/** The settings the core needs; a subset of the resolved configuration (durations in ms). */
export interface CorePoolSettings {
  name: string;
  size: number;
  maxOverflow: number;
  minIdle: number;
  checkoutTimeoutMs: number;
  recycleMs: number;
  idleTimeoutMs: number;
  prePing: boolean;
  prePingBypassMs: number;
  connectTimeoutMs: number;
  maxUses: number;
  housekeepingIntervalMs: number;
  /**
   * Replace connect attempts that hang while callers wait (see #hedge). On unless `false`: a drop-in
   * pool whose original opens exactly one connection per attempt (pg.Pool) turns it off.
   */
  hedgeConnects?: boolean;
  /**
   * A connection being closed keeps its slot until its socket is gone, so the server never sees more
   * than max connections from this pool. On unless `false`: pg.Pool frees the slot as the close begins
   * (its counters and the next connect do not wait for the goodbye), and its drop-in does the same;
   * status().total may then exceed max by the connections still closing.
   */
  closingHoldsSlot?: boolean;
}

export interface AcquireOptions {
  /** Abort the wait (ACQUIRE_ABORTED). */
  signal?: AbortSignal;
  /** Overrides checkoutTimeoutMs for this call. */
  timeoutMs?: number;
  /**
   * A checkout Spillway makes for itself (the background health check): its checkout and timeout
   * events say `internal: true`, so wait statistics describe callers' waits alone.
   */
  internal?: boolean;
}

/**
 * Hooks that let the resilience and leak layers take part in checkouts without the core knowing them.
 * Every hook is optional; with none set, the hot path checks one undefined field.
 */
export interface PoolGate {
  /**
   * Called before each checkout, on the caller's stack; throw (CIRCUIT_OPEN) to refuse it. What it
   * returns is handed to `lent` with the entry (leak detection's call-site trace).
   */
  admit?(): unknown;
  /**
   * Called before the multiplexer takes a statement, on the caller's stack; throw to refuse it. No
   * connection is lent to that caller, so there is nothing to trace (leak detection's capture is
   * skipped). Unset: `admit` serves, its result unused.
   */
  admitShared?(): void;
  /** Called after each connect attempt with its outcome; `startedAt` is when the attempt began (performance.now()). */
  connectResult?(error: unknown | undefined, startedAt: number): void;
  /**
   * Called by the query layer after a statement: `undefined` when the server answered, the error when
   * the connection broke (never for SQL errors). Lets the circuit breaker see query-level outages.
   */
  statementResult?(error: unknown | undefined, startedAt: number): void;
  /** Called when an entry is lent, with what `admit` returned for that checkout. */
  lent?(entry: PoolEntry<unknown>, context: unknown): void;
}

const RECYCLE_JITTER = 0.025;
/** `since` of a checkout served from the idle stack at once, without waiting. */
const LENT_AT_ONCE = -1;

/** Checkout context of {@link ConnectionPool.acquireAdmitted}: a carrier lease for shared statements. */
const CARRIER: unique symbol = Symbol('carrier');

/** Checkout context of an `internal` acquire: what the gate admitted it with, marked as the library's own. */
class InternalCheckout {
  constructor(readonly admitted: unknown) {}
}

/**
 * A connect attempt pending longer than HEDGE_FACTOR times the typical connect (and at least
 * HEDGE_FLOOR_MS) is stale: on a dropped network (a blackhole, a firewall that forgot the flow) it
 * would otherwise hold its slot for the whole connectTimeoutMs, even after the network is back. The
 * floor sets how soon after such a fault ends a fresh attempt starts (the issue asks for service back
 * within 0.5 s); the factor keeps a connect that is merely slower than average from counting as stale.
 */
const HEDGE_FLOOR_MS = 200;
const HEDGE_FACTOR = 4;
/** Timers may fire a little early against performance.now(): look again just after the attempt turns stale. */
const HEDGE_SLACK_MS = 5;
/** Weight of the newest successful connect in the typical connect time (an exponential moving average). */
const CONNECT_EWMA_WEIGHT = 0.2;

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
  readonly #connector: Connector<C>;
  readonly #max: number;
  /** settings.size: the most idle connections kept. */
  readonly #size: number;
  readonly #all = new Set<PoolEntry<C>>();
  /** Idle entries, most recently used at the end: reuse MRU so surplus ages out from the front. */
  readonly #idle: PoolEntry<C>[] = [];
  readonly #counts: [number, number, number, number] = [0, 0, 0, 0];
  readonly #queue: WaiterQueue<Lease<C>>;
  readonly #stats: PoolStats = {
    created: 0,
    closed: 0,
    recycled: 0,
    invalidated: 0,
    checkouts: 0,
    waits: 0,
    timeouts: 0,
    aborts: 0,
    leaks: 0,
    connectFailures: 0,
    connectsAbandoned: 0,
    pingFailures: 0,
    closedByReason: { recycled: 0, idle: 0, invalidated: 0, overflow: 0, error: 0, closed: 0 },
  };
  #nextId = 1;
  /** Idle entries created at or before this moment must be validated before reuse. */
  #invalidatedAt = -Infinity;
  #lastConnectError: unknown = undefined;
  /** One timer for the next stale-attempt check (see #hedge). */
  #hedgeTimer: NodeJS.Timeout | undefined = undefined;
  /** When the most recent connect attempt began (performance.now()). */
  #lastOpenAt = Number.NEGATIVE_INFINITY;
  /** The typical successful connect time (moving average), in ms. */
  #typicalConnectMs = 0;
  /** When the most recent successful connect began (attempts begun well before it and still pending are overtaken). */
  #lastSuccessStartedAt = Number.NEGATIVE_INFINITY;
  #closing: Promise<void> | undefined = undefined;
  #onDrained: (() => void) | undefined = undefined;
  #housekeeper: NodeJS.Timeout | undefined = undefined;
  #releaseClock: (() => void) | undefined = undefined;
  readonly #closingEntries = new Set<Promise<void>>();
  /** Listener flags, so the hot path allocates no event objects nobody reads. */
  #observeCheckout = false;
  #observeCheckin = false;
  /** A checkout or checkin listener, or the gate's `lent` hook: lending takes the observed path. */
  #watched = false;
  #gate: PoolGate | undefined = undefined;
  /** Settings read on every checkout, folded into one number each (Infinity = never). */
  readonly #maxUses: number;
  readonly #pingAfterIdleMs: number;
  readonly #hedging: boolean;
  readonly #closingHoldsSlot: boolean;

  constructor(connector: Connector<C>, settings: CorePoolSettings) {
    super();
    this.#connector = connector;
    this.settings = Object.freeze({ ...settings });
    this.name = settings.name;
    this.#max = settings.size + settings.maxOverflow;
    this.#size = settings.size;
    this.#maxUses = settings.maxUses > 0 ? settings.maxUses : Number.POSITIVE_INFINITY;
    this.#pingAfterIdleMs = settings.prePing ? settings.prePingBypassMs : Number.POSITIVE_INFINITY;
    this.#hedging = settings.hedgeConnects !== false;
    this.#closingHoldsSlot = settings.closingHoldsSlot !== false;
    this.#queue = new WaiterQueue<Lease<C>>((waiter, now) => this.#timeOut(waiter, now), performance.now.bind(performance));
    EventEmitter.prototype.on.call(this, 'newListener', (event: string) => this.#observe(event as PoolEventName, 1));
    EventEmitter.prototype.on.call(this, 'removeListener', (event: string) => this.#observe(event as PoolEventName, 0));
  }

  /** Open `minIdle` connections and start the housekeeper. Called once by createPool. */
  start(): void {
    if (this.#housekeeper !== undefined || this.#closing !== undefined) return;
    this.#housekeeper = setInterval(() => this.housekeep(), this.settings.housekeepingIntervalMs);
    this.#housekeeper.unref();
    this.#releaseClock = retainClock();
    this.#topUp();
  }

  /** Resolves once `minIdle` connections are open (or rejects with the first connect failure). */
  async warm(): Promise<void> {
    const missing = this.settings.minIdle - this.#counts[EntryState.Idle] - this.#counts[EntryState.InUse];
    const opening: Promise<void>[] = [];
    for (let i = 0; i < missing && this.#slotsTaken() < this.#max; i++) opening.push(this.#open(true));
    await Promise.all(opening);
  }

  /**
   * Open one more connection and keep it idle, bypassing the gate's admit (start-up retries use it).
   * Rejects with the connect failure.
   */
  async probe(): Promise<void> {
    if (this.#closing !== undefined) throw new PoolClosedError(this.name);
    if (this.#slotsTaken() < this.#max) await this.#open(true);
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
   * A connection lent on the caller's stack, or `undefined` where acquire() would wait, validate or
   * open one (then call acquire()). Throws what the gate throws (CIRCUIT_OPEN). For statements that
   * run synchronously (better-sqlite3) and give the lease back before yielding: nothing else runs
   * while it is out, so it cannot leak and no call-site trace is taken (`admitShared`); and with no
   * promise or tick between checkout and return, the connection just returned is the one lent next,
   * its page cache and prepared statements warm, where acquire() would rotate through every idle one.
   */
  lendNow(): Lease<C> | undefined {
    if (this.#closing !== undefined) return undefined;
    const now = coarseNow();
    const entry = this.#newestFit(now);
    if (entry === undefined) return undefined;
    const gate = this.#gate;
    if (gate !== undefined) {
      if (gate.admitShared !== undefined) gate.admitShared();
      else gate.admit?.();
    }
    return this.#lendNewest(entry, now, undefined);
  }

  /** The hooks of the resilience and leak layers (see {@link PoolGate}); they attach once, whole. */
  get gate(): PoolGate | undefined {
    return this.#gate;
  }

  set gate(gate: PoolGate | undefined) {
    this.#gate = gate;
    this.#watched = gate?.lent !== undefined || this.#observeCheckout || this.#observeCheckin;
  }

  /**
   * Borrow on behalf of callers the gate already admitted (the multiplexer admits each statement it
   * takes): admitting its borrowing again would count them twice, and while the circuit breaker is
   * half-open it would refuse the trial's own connection, so the trial never reports and the breaker
   * stays half-open. Connect outcomes still reach the gate. Such a lease carries other callers'
   * statements, each reported with its own checkout/checkin event (`shared: true`), so the lease
   * itself emits none: metrics would otherwise count every statement's wait twice and read the
   * carrier's hold time as one long use.
   */
  acquireAdmitted(): Promise<Lease<C>> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError(this.name));
    return this.#acquire(undefined, CARRIER);
  }

  /** acquire() past its fast path: a closed pool, options, or a gate to admit the caller. */
  #admit(options: AcquireOptions | undefined): Promise<Lease<C>> {
    if (this.#closing !== undefined) return Promise.reject(new PoolClosedError(this.name));
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
    const now = coarseNow();
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
      const now = coarseNow();
      const entry = this.#takeIdle(now);
      if (entry !== undefined && !this.#needsPing(entry, now)) {
        return Promise.resolve(this.#lend(entry, now, LENT_AT_ONCE, context));
      }
      if (entry !== undefined) {
        // Needs validation: go through the queue so ordering and deadlines stay in one place.
        const promise = this.#enqueue(options, now, context);
        this.#validateFor(entry, now);
        return promise;
      }
    }
    // Precise time only when someone reads the wait (checkout events); otherwise the coarse clock,
    // with deadlines pushed one tick later so a timeout never fires early.
    const promise = this.#enqueue(options, this.#observeCheckout ? performance.now() : coarseNow(), context);
    this.#dispatch();
    return promise;
  }

  /** A snapshot of the pool, cheap enough to call on every request. */
  status(): PoolStatus {
    const checkedIn = this.#counts[EntryState.Idle];
    const checkedOut = this.#counts[EntryState.InUse] as number;
    const opening = this.#counts[EntryState.Opening] as number;
    const closing = this.#counts[EntryState.Closing] as number;
    const total = checkedIn + checkedOut + opening + closing;
    return {
      name: this.name,
      size: this.settings.size,
      maxOverflow: this.settings.maxOverflow,
      max: this.#max,
      checkedIn,
      checkedOut,
      overflow: Math.max(0, total - this.settings.size),
      opening,
      closing,
      total,
      waiting: this.#queue.size,
      closed: this.#closing !== undefined,
    };
  }

  /** Counters since start (a copy). */
  stats(): PoolStats {
    return { ...this.#stats, closedByReason: { ...this.#stats.closedByReason } };
  }

  /** The last connect failure, if any (the cause of a POOL_TIMEOUT). */
  get lastConnectError(): unknown {
    return this.#lastConnectError;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Entries currently lent, for leak detection. */
  *lentEntries(): IterableIterator<PoolEntry<C>> {
    for (const entry of this.#all) if (entry.state === EntryState.InUse && entry.lease !== undefined) yield entry;
  }

  /** Count a leak (the leak detector reports it). */
  recordLeak(): void {
    this.#stats.leaks++;
  }

  /**
   * Take a leaked connection back: its lease is revoked (the holder's next use fails LEAK_RECLAIMED)
   * and the connection is discarded, since its state is unknown.
   */
  reclaim(entry: PoolEntry<C>, heldMs: number): void {
    if (entry.state !== EntryState.InUse || entry.lease === undefined) return;
    entry.lease.revoke(heldMs);
    entry.lease = undefined;
    this.#discard(entry, 'invalidated', undefined);
  }

  /**
   * Close this connection: at once when idle; when lent, a 'recycled' one at its return, while an
   * 'idle' one stays (it is no longer idle). For a pool that times each connection itself (the pg.Pool
   * facade's per-client idle and lifetime timers, its maxUses). False when nothing was done.
   */
  retire(connection: C, reason: 'idle' | 'recycled'): boolean {
    for (const entry of this.#all) {
      if (entry.connection !== connection) continue;
      if (entry.state === EntryState.InUse) {
        if (reason === 'idle') return false;
        entry.expiresAt = Number.NEGATIVE_INFINITY; // #wornOut at its return
        return true;
      }
      if (entry.state !== EntryState.Idle) return false;
      if (reason === 'recycled') {
        this.#stats.recycled++;
        this.emit('recycle', { connectionId: entry.id, ageMs: performance.now() - entry.createdAt });
      }
      this.#destroy(entry, reason);
      return true;
    }
    return false;
  }

  /**
   * Mark every connection opened up to now as suspect (SQLAlchemy's pool invalidation): idle ones are
   * validated before their next checkout, lent ones are validated when returned.
   */
  invalidateAll(reason: string, error?: unknown): void {
    this.#invalidatedAt = performance.now();
    this.emit('invalidate', { connectionId: undefined, reason, error });
  }

  /** LeaseOwner: a lease returns its entry. */
  checkin(entry: PoolEntry<C>, lease: Lease<C>, error: unknown): void {
    if (entry.lease !== lease) return; // reclaimed or already discarded
    entry.lease = undefined;
    const now = this.#observeCheckin ? this.#checkinObserved(entry) : coarseNow();
    entry.uses++;
    entry.lastUsedAt = now;
    if (error !== undefined || entry.broken || this.#connector.needsReset(entry.connection as C)) {
      this.#checkinDirty(entry, error);
      return;
    }
    this.#return(entry, now);
  }

  /** The precise time of a checkin someone listens to, after telling them. */
  #checkinObserved(entry: PoolEntry<C>): number {
    const now = performance.now();
    if (!entry.carrier) this.emit('checkin', { connectionId: entry.id, heldMs: now - entry.checkedOutAt });
    return now;
  }

  /** A connection back with an error (discarded) or with state to clear (reset, then returned). */
  #checkinDirty(entry: PoolEntry<C>, error: unknown): void {
    if (error !== undefined || entry.broken) {
      this.#discard(entry, 'invalidated', error ?? new ConnectionLostError('connection reported an error while lent'));
      return;
    }
    this.#connector.reset(entry.connection as C).then(
      () => this.#return(entry, performance.now()),
      (resetError) => this.#discard(entry, 'invalidated', resetError),
    );
  }

  /**
   * Stop new checkouts (POOL_CLOSED), wait up to `graceMs` for borrowed connections, then close all.
   * Idempotent: later calls return the same promise.
   */
  close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.#closing === undefined) this.#closing = this.#shutdown(options.graceMs ?? 30_000);
    return this.#closing;
  }

  /** One housekeeping pass: reap idle above minIdle, recycle expired idle, top up minIdle. */
  housekeep(): void {
    if (this.#closing !== undefined) return;
    const now = performance.now();
    // Oldest-used first: the front of the idle stack.
    for (let i = 0; i < this.#idle.length; ) {
      const entry = this.#idle[i] as PoolEntry<C>;
      if (now >= entry.expiresAt) {
        this.#idle.splice(i, 1);
        this.#stats.recycled++;
        this.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
        this.#destroy(entry, 'recycled');
        continue;
      }
      const above = this.#counts[EntryState.Idle] + this.#counts[EntryState.InUse] - this.settings.minIdle;
      if (above > 0 && this.settings.idleTimeoutMs > 0 && now - entry.lastUsedAt >= this.settings.idleTimeoutMs) {
        this.#idle.splice(i, 1);
        this.#destroy(entry, 'idle');
        continue;
      }
      i++;
    }
    this.#topUp();
  }

  // ---- internals -------------------------------------------------------------------------------

  #observe(event: PoolEventName, _adding: number): void {
    // Listener counts change after this callback on removal, so read them on the next tick.
    if (event === 'checkout' || event === 'checkin') {
      queueMicrotask(() => this.#setObserved(event, this.listenerCount(event) > 0));
      if (_adding === 1) this.#setObserved(event, true);
    }
  }

  #setObserved(event: 'checkout' | 'checkin', observed: boolean): void {
    if (event === 'checkout') this.#observeCheckout = observed;
    else this.#observeCheckin = observed;
    this.#watched = this.#gate?.lent !== undefined || this.#observeCheckout || this.#observeCheckin;
  }

  #setState(entry: PoolEntry<C>, state: EntryState): void {
    this.#counts[entry.state]--;
    this.#counts[state]++;
    entry.state = state;
  }

  /** The entry's connection is gone: drop it from the counts. */
  #forget(entry: PoolEntry<C>): void {
    this.#counts[entry.state]--;
    this.#all.delete(entry);
  }

  #takeIdle(now: number): PoolEntry<C> | undefined {
    let entry = this.#idle.pop();
    while (entry !== undefined && this.#wornOut(entry, now)) {
      this.#stats.recycled++;
      this.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
      this.#destroy(entry, 'recycled');
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
    const now = performance.now();
    entry.checkedOutAt = now;
    const internal = context instanceof InternalCheckout;
    this.#gate?.lent?.(entry as PoolEntry<unknown>, entry.carrier ? undefined : internal ? context.admitted : context);
    // A caller served at once waited for nothing; its `now` is the coarse clock, up to a tick old.
    if (this.#observeCheckout && !entry.carrier) {
      const waitMs = since === LENT_AT_ONCE ? 0 : now - since;
      this.emit('checkout', internal ? { connectionId: entry.id, waitMs, internal } : { connectionId: entry.id, waitMs });
    }
  }

  #enqueue(options: AcquireOptions | undefined, now: number, context: unknown): Promise<Lease<C>> {
    const timeoutMs = options?.timeoutMs ?? this.settings.checkoutTimeoutMs;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AcquireAbortedError(this.name, signal.reason));
    const deadline = timeoutMs > 0 ? Math.ceil(now + timeoutMs + (this.#observeCheckout ? 0 : TICK_MS)) : Number.POSITIVE_INFINITY;
    const waiter = new Waiter<Lease<C>>(deadline, Math.floor(now));
    waiter.context = context;
    const promise = new Promise<Lease<C>>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    if (signal !== undefined) this.#watchAbort(waiter, signal);
    this.#queue.push(waiter);
    return promise;
  }

  #watchAbort(waiter: Waiter<Lease<C>>, signal: AbortSignal): void {
    const onAbort = (): void => {
      if (!waiter.live) return;
      if (waiter.validating) waiter.live = false;
      else this.#queue.remove(waiter);
      this.#stats.aborts++;
      waiter.reject(new AcquireAbortedError(this.name, signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
  }

  /** Match idle connections with waiters, and open new ones while waiters outnumber openings. */
  #dispatch(): void {
    while (this.#queue.size > 0) {
      const now = coarseNow();
      const entry = this.#takeIdle(now);
      if (entry === undefined) break;
      if (this.#needsPing(entry, now)) {
        this.#validateFor(entry, now);
        continue;
      }
      const waiter = this.#queue.shift() as Waiter<Lease<C>>;
      this.#settle(waiter, entry, now);
    }
    while (this.#queue.size > this.#counts[EntryState.Opening] && this.#slotsTaken() < this.#max && this.#closing === undefined) {
      void this.#open(false);
    }
    // Callers wait on attempts that may all be stuck: a cheap test here, the real one in #hedge.
    if (this.#queue.size > 0 && this.#counts[EntryState.Opening] > 0 && coarseNow() - this.#lastOpenAt >= HEDGE_FLOOR_MS) {
      this.#hedge();
    }
  }

  /** Connections that count against max: all of them, or all but those closing (see closingHoldsSlot). */
  #slotsTaken(): number {
    return this.#closingHoldsSlot ? this.#all.size : this.#all.size - this.#counts[EntryState.Closing];
  }

  /** How long a connect attempt may be pending before it is stale (see HEDGE_FACTOR). */
  #hedgeAfterMs(): number {
    return Math.min(this.settings.connectTimeoutMs, Math.max(HEDGE_FLOOR_MS, HEDGE_FACTOR * this.#typicalConnectMs));
  }

  /**
   * Hedged connect: callers are waiting on connect attempts that may never answer. An attempt is
   * stale once pending longer than #hedgeAfterMs. Without this, attempts caught in a dropped network
   * hold their slots until connectTimeoutMs, even after the network is back.
   * - Stale attempts begun at least a hedge interval before a connect that has since succeeded are
   *   overtaken: the server answers new connects, they are lost. All of them are abandoned and
   *   replaced at once.
   * - Otherwise, when every attempt in flight is stale, one fresh attempt starts, so the first attempt
   *   made after the network comes back is at most one hedge interval away. At max, a stale attempt
   *   is abandoned first: the youngest, and only when two or more are stale. The oldest is never
   *   abandoned before a newer connect succeeds, so on a server that is merely slow to accept, one
   *   attempt always runs its full connectTimeoutMs and the pool cannot livelock. (A pool of max 1
   *   therefore hedges only after a success.)
   * Abandoning cuts the attempt's socket and frees its slot before anything new starts, so the pool
   * never holds more than max sockets. Abandoned attempts are not failures: no waiter is rejected and
   * the circuit breaker is not told. While the fault lasts this starts one attempt per hedge interval.
   */
  #hedge(): void {
    if (!this.#hedging || this.#closing !== undefined || this.#queue.size === 0) return;
    const now = performance.now();
    const hedgeAfterMs = this.#hedgeAfterMs();
    const staleBefore = now - hedgeAfterMs;
    const overtaken: PoolEntry<C>[] = [];
    let stale = 0;
    let youngestStale: PoolEntry<C> | undefined;
    let youngestFresh: PoolEntry<C> | undefined;
    for (const entry of this.#all) {
      if (entry.state !== EntryState.Opening) continue;
      if (entry.createdAt > staleBefore) {
        if (youngestFresh === undefined || entry.createdAt > youngestFresh.createdAt) youngestFresh = entry;
      } else if (entry.createdAt <= this.#lastSuccessStartedAt - hedgeAfterMs) {
        // Begun a whole hedge interval before a connect that has since succeeded (siblings begun in the
        // same burst are not overtaken, only slow alike).
        overtaken.push(entry);
      } else {
        stale++;
        if (youngestStale === undefined || entry.createdAt > youngestStale.createdAt) youngestStale = entry;
      }
    }
    if (overtaken.length > 0) {
      for (const entry of overtaken) entry.abandon?.();
      this.#dispatch(); // opens as many as the callers need
      return;
    }
    if (youngestFresh !== undefined) {
      // A fresh attempt is under way: look again when it turns stale.
      this.#scheduleHedge(youngestFresh.createdAt + hedgeAfterMs - now);
      return;
    }
    if (youngestStale === undefined) return;
    if (this.#slotsTaken() >= this.#max) {
      if (stale < 2) return;
      youngestStale.abandon?.();
    }
    void this.#open(false);
  }

  /** Run #hedge in `delayMs` (unless a check is already due): one pool-wide, unref'd timer. */
  #scheduleHedge(delayMs: number): void {
    if (!this.#hedging || this.#hedgeTimer !== undefined || this.#closing !== undefined) return;
    this.#hedgeTimer = setTimeout(() => {
      this.#hedgeTimer = undefined;
      this.#hedge();
    }, Math.max(0, delayMs) + HEDGE_SLACK_MS);
    this.#hedgeTimer.unref();
  }

  #settle(waiter: Waiter<Lease<C>>, entry: PoolEntry<C>, now: number): void {
    waiter.live = false;
    waiter.cleanup?.();
    this.#stats.waits++;
    waiter.resolve(this.#lend(entry, now, waiter.enqueuedAt, waiter.context));
  }

  /** Ping an entry reserved for the head waiter; on failure discard it and try the next, same deadline. */
  #validateFor(entry: PoolEntry<C>, _now: number): void {
    const waiter = this.#queue.shift();
    if (waiter === undefined) {
      this.#return(entry, performance.now());
      return;
    }
    // Off the queue while its connection is pinged, so the queue's timer no longer covers this waiter:
    // a ping into a dead network is bounded only by connectTimeoutMs, and must not hold the caller
    // past its own checkout deadline.
    waiter.validating = true;
    const deadlineTimer = Number.isFinite(waiter.deadline)
      ? setTimeout(
          () => {
            if (!waiter.live) return;
            waiter.live = false;
            this.#timeOut(waiter, performance.now());
          },
          Math.max(0, waiter.deadline - performance.now()),
        )
      : undefined;
    this.#connector.ping(entry.connection as C).then(
      () => {
        clearTimeout(deadlineTimer);
        waiter.validating = false;
        const now = performance.now();
        entry.validatedAt = now;
        entry.lastUsedAt = now;
        if (waiter.live) this.#settle(waiter, entry, now);
        else this.#return(entry, now);
      },
      (error) => {
        clearTimeout(deadlineTimer);
        waiter.validating = false;
        this.#stats.pingFailures++;
        this.#discard(entry, 'invalidated', error);
        this.#queue.unshift(waiter);
        this.#dispatch();
      },
    );
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
      this.#destroy(entry, 'closed');
      return;
    }
    if (this.#wornOut(entry, now)) {
      this.#stats.recycled++;
      this.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
      this.#destroy(entry, 'recycled');
      this.#dispatch();
      return;
    }
    if (entry.validatedAt <= this.#invalidatedAt) {
      // Opened before a disconnect elsewhere: validate before anyone gets it.
      if (this.#queue.size > 0) {
        this.#validateFor(entry, now);
        return;
      }
    } else if (this.#queue.size > 0) {
      this.#settle(this.#queue.shift() as Waiter<Lease<C>>, entry, now);
      return;
    }
    if (this.#idle.length >= this.#size) {
      this.#destroy(entry, 'overflow');
      return;
    }
    this.#setState(entry, EntryState.Idle);
    this.#idle.push(entry);
    if (this.#counts[EntryState.InUse] === 0) this.#onDrained?.();
  }

  /** Discard a lent entry after an error; a disconnect marks the whole pool suspect. */
  #discard(entry: PoolEntry<C>, reason: CloseReason, error: unknown): void {
    this.#stats.invalidated++;
    this.emit('invalidate', { connectionId: entry.id, reason: String(reason), error });
    if (error !== undefined && this.#connector.isDisconnect(error)) {
      this.invalidateAll('disconnect', error);
    }
    this.#destroy(entry, reason);
    this.#dispatch();
  }

  #destroy(entry: PoolEntry<C>, reason: CloseReason): void {
    if (entry.state === EntryState.Closing) return;
    if (entry.state === EntryState.Idle) {
      const index = this.#idle.indexOf(entry);
      if (index >= 0) this.#idle.splice(index, 1);
    }
    entry.lease?.revoke(0, reason === 'closed');
    entry.lease = undefined;
    this.#setState(entry, EntryState.Closing);
    this.#stats.closed++;
    this.#stats.closedByReason[reason]++;
    this.emit('close', { connectionId: entry.id, reason });
    const done = this.#connector
      .close(entry.connection as C)
      .catch(() => undefined)
      .then(() => {
        this.#forget(entry);
        this.#closingEntries.delete(done);
        if (this.#counts[EntryState.InUse] === 0) this.#onDrained?.();
        if (this.#closing === undefined) {
          this.#dispatch();
          if (reason !== 'idle' && reason !== 'overflow') this.#topUp();
        }
      });
    this.#closingEntries.add(done);
  }

  /** Keep `minIdle` connections open. */
  #topUp(): void {
    if (this.#closing !== undefined) return;
    const have = this.#counts[EntryState.Idle] + this.#counts[EntryState.InUse] + this.#counts[EntryState.Opening];
    for (let i = have; i < this.settings.minIdle && this.#slotsTaken() < this.#max; i++) {
      // Failures are recorded in lastConnectError and retried by the next housekeeping pass.
      this.#open(true).catch(() => undefined);
    }
  }

  /**
   * Open one connection; when `warm` the failure is recorded but nobody is rejected, and the returned
   * promise rejects with it.
   */
  #open(warm: boolean): Promise<void> {
    const now = performance.now();
    const recycleMs = this.settings.recycleMs;
    const expiresAt = recycleMs > 0 ? now + recycleMs - Math.random() * recycleMs * RECYCLE_JITTER : Number.POSITIVE_INFINITY;
    const entry = new PoolEntry<C>(this.#nextId++, now, expiresAt);
    this.#all.add(entry);
    this.#counts[EntryState.Opening]++;
    this.#lastOpenAt = now;
    const timeoutMs = this.settings.connectTimeoutMs;
    const controller = new AbortController();
    const connecting = this.#connector.connect({
      timeoutMs,
      signal: controller.signal,
      onBroken: (error) => this.#broken(entry, error),
    });
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        entry.abandon = undefined;
        return true;
      };
      /** The pool stops waiting for this attempt: cut its socket, free its slot, close it if it still arrives. */
      const giveUp = (error: unknown, abandoned: boolean): void => {
        if (!settle()) return;
        controller.abort(error);
        connecting.then(
          (late) => this.#connector.close(late),
          () => undefined,
        );
        this.#forget(entry);
        if (abandoned) {
          this.#stats.connectsAbandoned++;
          if (warm) reject(error);
          else resolve();
          return;
        }
        this.#connectFailed(error, now, warm);
        if (warm) reject(error);
        else resolve();
      };
      timer = setTimeout(() => giveUp(new ConnectTimeoutError(this.#connector.target, timeoutMs), false), timeoutMs);
      timer.unref();
      const hedgeAfterMs = this.#hedgeAfterMs();
      if (hedgeAfterMs < timeoutMs) this.#scheduleHedge(hedgeAfterMs);
      entry.abandon = () =>
        giveUp(
          this.#closing !== undefined
            ? new PoolClosedError(this.name)
            : new ConnectTimeoutError(this.#connector.target, Math.round(performance.now() - now)),
          true,
        );
      connecting.then(
        (connection) => {
          if (!settle()) return; // given up meanwhile: giveUp closes it
          entry.connection = connection;
          this.#stats.created++;
          this.#lastConnectError = undefined;
          this.#gate?.connectResult?.(undefined, now);
          const at = performance.now();
          this.#typicalConnectMs += CONNECT_EWMA_WEIGHT * (at - now - this.#typicalConnectMs);
          this.#lastSuccessStartedAt = Math.max(this.#lastSuccessStartedAt, now);
          entry.validatedAt = at;
          entry.lastUsedAt = at;
          this.emit('connect', { connectionId: entry.id, durationMs: at - now });
          this.#setState(entry, EntryState.InUse);
          if (this.#closing !== undefined) this.#destroy(entry, 'closed');
          else {
            this.#return(entry, at);
            this.#dispatch();
            // The server answers: attempts still pending from before are lost, replace them now.
            if (this.#queue.size > 0 && this.#counts[EntryState.Opening] > 0) this.#hedge();
          }
          resolve();
        },
        (error) => giveUp(error, false),
      );
    });
  }

  /** A connect attempt failed (refused, timed out, rejected by the server). */
  #connectFailed(error: unknown, startedAt: number, warm: boolean): void {
    this.#stats.connectFailures++;
    this.#lastConnectError = error;
    this.#gate?.connectResult?.(error, startedAt);
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this.#queue.size > 0 && !warm) {
      // The oldest waiter learns why (as pg-pool does); the rest keep waiting and may get a new attempt.
      const waiter = this.#queue.shift() as Waiter<Lease<C>>;
      waiter.live = false;
      waiter.cleanup?.();
      waiter.reject(error);
      this.#dispatch();
    }
  }

  /** The driver reported an error on a connection: never crash; discard it now or on release. */
  #broken(entry: PoolEntry<C>, error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    if (this.#connector.isDisconnect(error)) this.invalidateAll('disconnect', error);
    if (entry.state === EntryState.Idle) {
      this.#stats.invalidated++;
      this.emit('invalidate', { connectionId: entry.id, reason: 'error', error });
      this.#destroy(entry, 'error');
    } else if (entry.state === EntryState.InUse) {
      entry.broken = true;
    }
  }

  #timeOut(waiter: Waiter<Lease<C>>, now: number): void {
    waiter.cleanup?.();
    this.#stats.timeouts++;
    const status = this.status();
    const waitMs = now - waiter.enqueuedAt;
    this.emit(
      'timeout',
      waiter.context instanceof InternalCheckout
        ? { waitMs, waiting: status.waiting, internal: true }
        : { waitMs, waiting: status.waiting },
    );
    waiter.reject(new PoolTimeoutError(this.name, status, Math.round(waitMs), this.#lastConnectError));
  }

  async #shutdown(graceMs: number): Promise<void> {
    if (this.#housekeeper !== undefined) clearInterval(this.#housekeeper);
    this.#housekeeper = undefined;
    clearTimeout(this.#hedgeTimer);
    this.#hedgeTimer = undefined;
    this.#releaseClock?.();
    for (const waiter of this.#queue.drain()) {
      waiter.live = false;
      waiter.cleanup?.();
      waiter.reject(new PoolClosedError(this.name));
    }
    for (const entry of [...this.#idle]) this.#destroy(entry, 'closed');
    // Attempts still connecting are cut now: nobody will borrow them, and a stuck one would hold close()
    // for up to connectTimeoutMs.
    for (const entry of [...this.#all]) if (entry.state === EntryState.Opening) entry.abandon?.();
    if (this.#counts[EntryState.InUse] > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        // Referenced on purpose: the caller awaits close(), so its grace is work still to do.
        const timer = setTimeout(resolve, graceMs);
        this.#onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onDrained = undefined;
    }
    for (const entry of [...this.#all]) {
      if (entry.state === EntryState.InUse || entry.state === EntryState.Idle) this.#destroy(entry, 'closed');
    }
    // Nothing should still be opening (abandoned above); the loop waits for it anyway, never forever.
    while (this.#closingEntries.size > 0 || this.#counts[EntryState.Opening] > 0) {
      if (this.#closingEntries.size > 0) await Promise.all([...this.#closingEntries]);
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
