import { ConnectionLostError, outcomeOf, PoolClosedError, PoolTimeoutError, SpillwayError, StatementTimeoutError } from '../../errors.js';
import type { Clock, ClockTimer } from '../../pool/clock.js';
import type { PoolEventMap } from '../../pool/events.js';
import type { Lease } from '../../pool/lease.js';
import type { ConnectionPool } from '../../pool/pool.js';
import { Waiter, WaiterQueue } from '../../pool/waiter-queue.js';
import type { ShapeView, SharedLeasesStatus } from '../multiplexing.js';
import { Lane, ShapeCosts, type WorkShape } from './postgres-shape-costs.js';

/**
 * What shared use needs from a connection kind; the dialect provides it (for pg: pipeline mode).
 * Knows no SQL: work is an opaque callback.
 */
export interface SharedUse<C> {
  /** Switch a freshly leased connection to shared use (pg: pipeline mode on). */
  enter(connection: C): void;
  /** Switch back to exclusive use before the lease goes home. */
  leave(connection: C): void;
  /** False once the connection takes no more work (socket gone): work not yet sent goes elsewhere. */
  usable(connection: C): boolean;
  /** False when the connection now holds session state (an open transaction): it takes no more shared work. */
  shareable(connection: C): boolean;
  /** Group the writes made until the next tick into one (pg: cork the socket). Optional. */
  batch?(connection: C): void;
  /** Tear the connection down now, failing whatever is in flight on it (a stuck or broken pipeline). */
  abort(connection: C): void;
  /** True when this error ends the connection, so it is discarded and its other work fails too. */
  isFatal(error: unknown): boolean;
}

/**
 * What the scheduler reports, typed: each unit of work's checkout and checkin (`shared: true`; a
 * carrier lease itself reports none), and a unit that waited past its checkout timeout. By default they
 * become the pool's own events ({@link poolEvents}), so metrics, logs and alerts see a shared statement
 * as one checkout, exactly like an exclusive one.
 */
export interface SharedLeasesEvents {
  /** Whether anyone listens: no event object is built for nobody. */
  observed(): boolean;
  checkout(event: PoolEventMap['checkout'][0]): void;
  checkin(event: PoolEventMap['checkin'][0]): void;
  timeout(event: PoolEventMap['timeout'][0]): void;
}

/** The pool's events as the scheduler's sink. */
export function poolEvents(pool: ConnectionPool<unknown>): SharedLeasesEvents {
  return {
    observed: () => pool.listenerCount('checkout') > 0 || pool.listenerCount('checkin') > 0,
    checkout: (event) => pool.emit('checkout', event),
    checkin: (event) => pool.emit('checkin', event),
    timeout: (event) => pool.emit('timeout', event),
  };
}

export interface SharedLeasesSettings {
  /** Units of work in flight at once on one connection. */
  maxInFlight: number;
  /** A busy connection that answers nothing for this long is stuck: its work fails STATEMENT_TIMEOUT (0 = never). */
  stallTimeoutMs: number;
  /** Give a connection back to the pool after holding it this long, so recycling, leak detection and other borrowers see it. */
  maxHoldMs: number;
  /**
   * Latency budget for queueing on one connection: another connection is borrowed only when the
   * least busy one's expected wait (in flight x measured time per unit) reaches this. Fast statements
   * then pipeline deeply on few connections (fewer writes, reads and wake-ups on both sides).
   */
  spreadAfterMs: number;
  /**
   * Share of size + maxOverflow that slow-lane work (shapes measured slow, or not measured yet) may
   * hold while shared work is about, so the pool is never all taken by slow work while fast work
   * waits. At least one connection.
   */
  exclusiveShare: number;
  /**
   * Back-pressure from the slow lane: while slow-lane units wait for room in the full lane, work that
   * does not go there and arrives after them waits up to this long per slow-lane unit waiting (ms;
   * 0 = never) for them to start first. In a closed loop (the same callers run fast and slow
   * statements) fast work that never waits brings every caller to the lane's queue: a 50 ms statement
   * waited 600 ms behind 90 others, where pg.Pool spreads the wait over every statement. Per unit
   * waiting, because the more callers, the longer each must be held; bounded, because slow work from
   * callers of its own (a report job) is not slowed by fast work, and holding that back frees nothing.
   */
  holdForSlowMs: number;
  /** A slow-lane unit waits for the lane up to this share of its learned cost before other work is held for it (see holdForSlowMs). */
  slowWaitShare: number;
  /**
   * Nothing new is put on a connection whose oldest unit has been answering for longer than this
   * (or SLOW_RATIO times the typical unit, when more): work goes elsewhere rather than behind it.
   */
  stuckAfterMs: number;
  /**
   * Answers in flight on one connection, in the unit the tasks report sizes in (rows for SQL; 0 = no
   * bound): past it, shared work waits for another connection or its turn, first come first served.
   * A backlog of large answers on one socket is read in one go, tens of them per turn, while the other
   * sockets wait: deep pipelines of large answers made a few callers wait seconds (100-row selects at
   * 1000 callers). Small answers pipeline up to `maxInFlight`.
   */
  sizeBudget: number;
  /** Keys (statement texts) whose work never shares a pipeline, whatever it costs. */
  alwaysExclusive(key: string): boolean;
  /** Shapes remembered at most. */
  shapeCapacity: number;
  /** Monotonic clock (ms); tests step it. */
  clock?: () => number;
  /**
   * Period of the heartbeat that measures how late this process runs (ms; default LOOP_BEAT_MS, 0 =
   * off): time the process stood still is left out of every measured cost (see #lateness).
   */
  loopBeatMs?: number;
}

/** One unit of work: call `done` exactly once, with the answer's size (rows for SQL) when known. */
export type SharedTask<C, T> = (connection: C, done: (error: unknown, value?: T, size?: number) => void) => void;

interface Job {
  settled: boolean;
  readonly shape: WorkShape | undefined;
  fail(error: unknown): void;
}

/** A request to the pool for a connection (see SharedLeases#borrow). */
interface Borrow {
  readonly startedAt: number;
  slow: boolean;
}

interface Slot<C> {
  readonly lease: Lease<C>;
  readonly connection: C;
  inFlight: number;
  /** Expected size of the answers in flight (see SharedLeasesSettings.sizeBudget). */
  sizeInFlight: number;
  /** An exclusive unit is in flight (the last one put here): the connection takes nothing more until it is answered. */
  exclusive: boolean;
  draining: boolean;
  dead: boolean;
  readonly heldAt: number;
  /** Last answer (or when it went busy): the stall and stuck checks' clock. */
  progressAt: number;
  /** {@link SharedLeases#lateness} at progressAt. */
  lateAtProgress: number;
  /** Its oldest unit's shape was suspected once for the current wait (see #stuck). */
  suspected: boolean;
  readonly jobs: Set<Job>;
}

/** Bounds of the stall check's period (a quarter of the stall timeout in between). */
const SWEEP_MIN_MS = 50;
const SWEEP_MAX_MS = 1000;
/** Weight of each new sample in the smoothed service time and load. */
const EWMA_WEIGHT = 0.1;
/** A service-time sample counts at most this many times the estimate, plus the floor. */
const SAMPLE_CAP = 4;
const SAMPLE_FLOOR_MS = 0.05;
/** A request to the pool still pending after this long may be stuck: the work waiting gets another. */
const SLOW_BORROW_MS = 100;
/** One placement in this many (a power of two) pipelines despite the estimate, to keep measuring. */
const PROBE_EVERY = 16;
/**
 * A shape goes to the slow lane from this cost, or SLOW_RATIO times the typical shared unit when that
 * is more: relative, because on a loaded client every gap between answers grows alike, and a shape
 * must not turn slow because the client is busy. The floor sits above a round trip on a loaded
 * machine (a run that went out alone measures one): a few milliseconds there, where on a quiet one
 * it is a tenth of one.
 */
const SLOW_FLOOR_MS = 10;
const SLOW_RATIO = 8;
/** A shared run answered this late (or SUDDEN_RATIO times the typical unit) puts its shape on probation. */
const SUDDEN_FLOOR_MS = 50;
const SUDDEN_RATIO = 16;
/** Slow-lane units waiting that lengthen the hold at most (see #holdMs). */
const HOLD_COUNTS_AT_MOST = 10;
/** The heartbeat's period, and the lateness of one beat that counts as the process standing still. */
const LOOP_BEAT_MS = 10;
const LATE_BEAT_MS = 5;

/**
 * Shared work counts as about for this long after its last start: the exclusive share applies
 * meanwhile. Without any (all statements slow, unknown or writes), exclusive work may take the whole
 * pool, as one statement per connection would.
 */
const SHARED_RECENT_MS = 5000;

/**
 * Leases held from the pool and shared by many callers, several units of work in flight on each
 * (connection multiplexing). The pool still owns every connection and its size bounds them all:
 * this class borrows like any caller, so exclusive borrowers (transactions, `acquire`) keep their
 * semantics and their place in the same FIFO queue.
 *
 * - Shapes: each unit may carry a key (a statement text); its cost is learned per key
 *   ({@link ShapeCosts}). Only keys measured fast share a pipeline. The others run exclusive: each
 *   goes on a connection of its own when the pool can lend one at once, else last on an open one,
 *   which then takes nothing more until it is answered, so no unit ever waits behind one. A unit
 *   without a key shares.
 * - Slow lane: exclusive units of keys measured slow, or not measured yet, hold at most
 *   `exclusiveShare` of size + maxOverflow while shared work is about; more wait in their own FIFO.
 *   So slow work never takes every connection from fast work. Exclusive units expected short (keys
 *   still learning, on probation after a sudden slow run, or always exclusive) are not held there:
 *   they wait with shared work.
 * - Stuck: nothing new goes on a connection whose oldest unit has been answering longer than
 *   `stuckAfterMs`; work goes elsewhere, and a shape stuck for long is put on probation.
 * - Spread: shared work goes to the open connection with the fewest in flight, up to `maxInFlight` and
 *   to `sizeBudget` of answers (rows) in flight.
 * - Order: work waiting in either queue starts oldest first (slow-lane work when the lane has room).
 * - Back-pressure: while slow-lane work waits for the full lane (past `slowWaitShare` of its cost),
 *   other work arriving after it waits up to `holdForSlowMs` per unit waiting for it to start first.
 * - Growth: another connection is borrowed when the least busy one's expected queueing (in flight x
 *   measured server time per unit) would pass `spreadAfterMs` and the pool can lend one at once; an
 *   idle shared connection goes home at once.
 * - Back-pressure: when the pool has nothing more to lend and all are at the bound, callers wait in a
 *   FIFO bounded by checkoutTimeoutMs (POOL_TIMEOUT), and a borrow request waits in the pool's own queue.
 * - Failure: a fatal error discards that connection alone; work not yet sent goes elsewhere, and
 *   nothing is sent twice. A connection that answers nothing for `stallTimeoutMs` is torn down and
 *   its work fails STATEMENT_TIMEOUT.
 * - Fairness: when others wait in the pool, or a connection was held `maxHoldMs`, one connection
 *   stops taking work and goes home once its work is done.
 */
export class SharedLeases<C> {
  readonly #pool: ConnectionPool<C>;
  readonly #events: SharedLeasesEvents;
  readonly #use: SharedUse<C>;
  readonly #settings: Readonly<SharedLeasesSettings>;
  readonly #now: () => number;
  readonly #shapes: ShapeCosts;
  readonly #slots: Slot<C>[] = [];
  /** Shared work waiting for room. */
  readonly #pending: WaiterQueue<Slot<C>>;
  /** Slow-lane work waiting for room in the lane or a connection (the waiter's context is its shape). */
  readonly #pendingSlow: WaiterQueue<Slot<C>>;
  #acquiring = 0;
  /** Of those, the ones not yet pending SLOW_BORROW_MS (see #borrow). */
  #freshAcquiring = 0;
  readonly #borrowing = new Set<Borrow>();
  #slowBorrowTimer: NodeJS.Timeout | undefined = undefined;
  /** Work in flight on all held connections. */
  #inFlight = 0;
  /** Exclusive units in flight (each blocks one connection); of those, the slow lane's, and borrow requests made for one. */
  #exclusiveInFlight = 0;
  #slowInFlight = 0;
  #slowBorrowing = 0;
  /** Shared units in flight, and when the last one started: is shared work about (see #slowLaneLimit)? */
  #sharedInFlight = 0;
  #lastSharedAt = Number.NEGATIVE_INFINITY;
  #sharedRuns = 0;
  #exclusiveRuns = 0;
  /** Smoothed server time of one pipelined unit (ms). Starts at a quarter of the budget: a cold multiplexer pipelines a few, then learns. */
  #serviceMs: number;
  /** Smoothed work in flight, sampled at each start: the load the held connections must carry. */
  #load = 0;
  /** Smoothed time a run that went out alone took beyond its server time: the round trip and the machine's lag (see #aloneSample). */
  #roundTripMs = 0;
  #draining = 0;
  #probes = 0;
  #closed = false;
  /** Wakes work held for the slow lane when its hold runs out (see #held). */
  #holdTimer: ClockTimer | undefined = undefined;
  #waking = false;
  readonly #clock: Clock;
  #stallTimer: NodeJS.Timeout | undefined = undefined;
  #beatTimer: NodeJS.Timeout | undefined = undefined;
  #beatAt = 0;
  /** Time the heartbeat found this process late, summed (ms). */
  #lateMs = 0;
  #onEmpty: (() => void) | undefined = undefined;

  constructor(pool: ConnectionPool<C>, use: SharedUse<C>, settings: SharedLeasesSettings, events?: SharedLeasesEvents) {
    this.#pool = pool;
    this.#events = events ?? poolEvents(pool as unknown as ConnectionPool<unknown>);
    this.#use = use;
    this.#settings = Object.freeze({ ...settings });
    // The pool's clock, or (tests) the pool's timers read against a clock the test steps.
    const clock = settings.clock === undefined ? pool.clock : { ...pool.clock, now: settings.clock };
    this.#now = () => clock.now();
    this.#clock = clock;
    this.#shapes = new ShapeCosts(settings.shapeCapacity, settings.alwaysExclusive);
    this.#serviceMs = settings.spreadAfterMs / 4;
    const timeOut = (waiter: Waiter<Slot<C>>, now: number) => this.#timeOut(waiter, now);
    this.#pending = new WaiterQueue<Slot<C>>(timeOut, clock);
    this.#pendingSlow = new WaiterQueue<Slot<C>>(timeOut, clock);
  }

  /** Connections held, work in flight and waiting, and the measured server time of one pipelined unit. */
  get status(): SharedLeasesStatus {
    return {
      held: this.#slots.length,
      inFlight: this.#inFlight,
      waiting: this.#pending.size + this.#pendingSlow.size,
      acquiring: this.#acquiring,
      serviceTimeMs: this.#serviceMs,
      exclusiveInFlight: this.#exclusiveInFlight,
      slowLaneInFlight: this.#slowInFlight,
      sharedRuns: this.#sharedRuns,
      exclusiveRuns: this.#exclusiveRuns,
    };
  }

  /** The `limit` shapes that kept connections busy longest, with their learned cost and mode. */
  shapes(limit: number): ShapeView[] {
    return this.#shapes.top(limit);
  }

  /**
   * Run `task` on a shared connection. `key` names its shape (a statement text) for the cost model;
   * without one it shares like fast work. Rejects POOL_TIMEOUT when none had room within checkoutTimeoutMs.
   */
  run<T>(task: SharedTask<C, T>, key?: string): Promise<T> {
    if (this.#closed || this.#pool.closed) return Promise.reject(new PoolClosedError(this.#pool.name));
    const gate = this.#pool.gate;
    const admit = gate?.admitShared ?? gate?.admit;
    if (admit !== undefined) {
      try {
        admit.call(gate);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const shape = key === undefined ? undefined : this.#shapes.lookup(key);
    return new Promise<T>((resolve, reject) => {
      const now = this.#now();
      const lane = shape === undefined ? Lane.SHARED : shape.lane;
      if (lane === Lane.SLOW) this.#runSlow(task, shape, resolve, reject, now);
      else this.#runOpen(task, shape, lane, resolve, reject, now);
    });
  }

  /**
   * Take no new work (POOL_CLOSED), let work in flight finish for up to `graceMs`, then give every
   * connection back (those still busy are torn down). Idempotent.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.#closed = true;
    if (this.#slowBorrowTimer !== undefined) clearTimeout(this.#slowBorrowTimer);
    this.#slowBorrowTimer = undefined;
    this.#clock.clear(this.#holdTimer);
    this.#holdTimer = undefined;
    for (const waiter of [...this.#pending.drain(), ...this.#pendingSlow.drain()]) {
      waiter.live = false;
      waiter.reject(new PoolClosedError(this.#pool.name));
    }
    for (const slot of [...this.#slots]) this.#drain(slot);
    if (this.#slots.length > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        timer.unref();
        this.#onEmpty = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#onEmpty = undefined;
    }
    for (const slot of [...this.#slots]) {
      this.#fail(slot, new PoolClosedError(this.#pool.name));
    }
  }

  // ---- placement -------------------------------------------------------------------------------

  /**
   * Shared work, or exclusive work expected short (`lane` ALONE): on the open connection with the
   * fewest in flight. Shared work waits for a connection the pool can lend at once when that one is
   * over the latency budget; exclusive work takes one the pool can lend at once, to run alone.
   */
  #runOpen<T>(
    task: SharedTask<C, T>,
    shape: WorkShape | undefined,
    lane: Lane,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    now: number,
  ): void {
    const alone = lane !== Lane.SHARED;
    // Behind older work waiting to start (in either queue), as first come, first served.
    const held = this.#slowBlocked(now) !== undefined;
    const queued = held || this.#pending.size > 0 || (this.#pendingSlow.size > 0 && this.#oldestReady(now) !== undefined);
    const slot = queued ? undefined : this.#pick(now, shape === undefined ? 0 : shape.size);
    // Over the latency budget while the pool can lend another connection at once: wait for that one
    // (a moment) rather than queue behind busy pipelines. Alone, take it whenever the pool has one.
    const growNow = slot !== undefined && (alone || (!this.#withinBudget(slot) && !this.#probe())) && this.#canGrowNow();
    if (slot !== undefined && !growNow) {
      this.#start(slot, task, shape, lane, resolve, reject, 0, now);
      return;
    }
    if (!queued && (alone ? this.#canGrowNow() : this.#acquiring === 0 && (slot === undefined ? this.#slots.length === 0 : growNow))) {
      // Nothing held (a quiet moment), or the pool can lend another connection at once: borrow straight
      // from the pool, whose own queue and timeout apply, and start on the connection it lends.
      // Callers arriving meanwhile wait below.
      this.#borrow(
        false,
        (lease) => this.#adopt(lease, (chosen) => this.#start(chosen, task, shape, lane, resolve, reject, now, this.#now()), reject),
        (error) => {
          reject(error);
          this.#grow();
        },
      );
      return;
    }
    this.#wait(this.#pending, task, shape, resolve, reject, now);
    if (held) this.#armHoldWake(now);
  }

  /**
   * Work of a shape measured slow or not measured yet: alone, on a connection of its own when the pool
   * can lend one at once, else last on the open connection with the fewest in flight; within the slow lane.
   */
  #runSlow<T>(
    task: SharedTask<C, T>,
    shape: WorkShape | undefined,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    now: number,
  ): void {
    if (this.#pendingSlow.size === 0 && this.#slowInFlight + this.#slowBorrowing < this.#slowLaneLimit(now)) {
      if (this.#canGrowNow()) {
        this.#borrow(
          true,
          (lease) => this.#adopt(lease, (chosen) => this.#start(chosen, task, shape, Lane.SLOW, resolve, reject, now, this.#now()), reject),
          (error) => {
            reject(error);
            this.#grow();
          },
        );
        return;
      }
      const slot = this.#pick(now, shape === undefined ? 0 : shape.size);
      if (slot !== undefined) {
        this.#start(slot, task, shape, Lane.SLOW, resolve, reject, 0, now);
        return;
      }
    }
    this.#wait(this.#pendingSlow, task, shape, resolve, reject, now);
  }

  #wait<T>(
    queue: WaiterQueue<Slot<C>>,
    task: SharedTask<C, T>,
    shape: WorkShape | undefined,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    now: number,
  ): void {
    const timeoutMs = this.#pool.settings.checkoutTimeoutMs;
    const waiter = new Waiter<Slot<C>>(timeoutMs > 0 ? Math.ceil(now + timeoutMs) : Number.POSITIVE_INFINITY, Math.floor(now));
    // The lane is decided again when it leaves the queue: an unknown shape learned meanwhile shares.
    waiter.resolve = (chosen) =>
      this.#start(chosen, task, shape, shape === undefined ? Lane.SHARED : shape.lane, resolve, reject, now, this.#now());
    waiter.reject = reject;
    waiter.context = shape;
    queue.push(waiter);
    this.#grow();
  }

  /**
   * The open connection (not draining, no exclusive unit, not stuck) with the fewest in flight and room
   * for one more answer of `size`.
   */
  #pick(now: number, size: number): Slot<C> | undefined {
    let best: Slot<C> | undefined;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as Slot<C>;
      if (slot.draining || slot.exclusive || (best !== undefined && slot.inFlight >= best.inFlight)) continue;
      if (slot.inFlight > 0 && (this.#full(slot, size) || this.#stuck(slot, now))) continue;
      if (!this.#use.usable(slot.connection)) {
        this.#fail(slot, undefined);
        i--;
        continue;
      }
      best = slot;
      if (slot.inFlight === 0) break;
    }
    return best !== undefined && best.inFlight < this.#settings.maxInFlight ? best : undefined;
  }

  /**
   * The oldest unit on `slot` has been answering for longer than the stuck bound: nothing more goes
   * behind it. Stuck for SUDDEN_FLOOR_MS while the shape was trusted, its shape goes on probation, so
   * its next runs (from any caller) go alone until they are measured again.
   */
  #stuck(slot: Slot<C>, now: number): boolean {
    const waitedMs = now - slot.progressAt - (this.#lateness(now) - slot.lateAtProgress);
    if (waitedMs <= Math.max(this.#settings.stuckAfterMs, this.#serviceMs * SLOW_RATIO)) return false;
    if (!slot.suspected && waitedMs > this.#suddenMs()) {
      slot.suspected = true;
      const oldest = slot.jobs.values().next().value as Job | undefined;
      if (oldest?.shape !== undefined) ShapeCosts.suspect(oldest.shape);
    }
    return true;
  }

  /**
   * The server time in a run that went out alone, nothing ahead of it: its whole time less the usual
   * round trip, learned from such runs under SLOW_FLOOR_MS. On a loaded machine that round trip (the
   * lag before the server reads and before this process handles the answer) takes milliseconds, and
   * read as cost it would send fast statements to the slow lane.
   */
  #aloneSample(elapsedMs: number): number {
    if (elapsedMs < SLOW_FLOOR_MS) this.#roundTripMs += (elapsedMs - this.#roundTripMs) * EWMA_WEIGHT;
    return Math.max(0, elapsedMs - this.#roundTripMs);
  }

  /** One more answer of `size` would pass the connection's size budget. */
  #full(slot: Slot<C>, size: number): boolean {
    const budget = this.#settings.sizeBudget;
    return budget > 0 && slot.sizeInFlight + size > budget;
  }

  /** Cost from which a shape goes to the slow lane (see SLOW_FLOOR_MS). */
  #slowMs(): number {
    return Math.max(SLOW_FLOOR_MS, this.#serviceMs * SLOW_RATIO);
  }

  #suddenMs(): number {
    return Math.max(SUDDEN_FLOOR_MS, this.#serviceMs * SUDDEN_RATIO);
  }

  /** The oldest slow-lane unit, when it waits for room in the full lane and holdForSlowMs is on. */
  #slowBlocked(now: number): Waiter<Slot<C>> | undefined {
    if (this.#settings.holdForSlowMs <= 0) return undefined;
    const head = this.#pendingSlow.peek();
    const shape = head?.context as WorkShape | undefined;
    if (head === undefined || shape?.lane !== Lane.SLOW) return undefined;
    if (now - head.enqueuedAt < shape.costMs * this.#settings.slowWaitShare) return undefined;
    return this.#slowInFlight + this.#slowBorrowing >= this.#slowLaneLimit(now) ? head : undefined;
  }

  /** `waiter` (not for the slow lane) came after a slow-lane unit still waiting for the lane, and may wait longer for it. */
  #held(waiter: Waiter<Slot<C>>, now: number): boolean {
    if (now - waiter.enqueuedAt >= this.#holdMs()) return false;
    const blocked = this.#slowBlocked(now);
    return blocked !== undefined && blocked.enqueuedAt <= waiter.enqueuedAt;
  }

  /**
   * How long work may be held for the slow lane: holdForSlowMs per slow-lane unit waiting, up to
   * HOLD_COUNTS_AT_MOST of them. The more callers a closed loop has, the longer each must be held for
   * their slow statements not to pile up (1000 callers with 1 % of 50 ms statements need about 55 ms);
   * a lone waiter holds only a moment, and a flood of slow work (a thousand reports queued) does not
   * stop fast work for longer than the cap.
   */
  #holdMs(): number {
    return this.#settings.holdForSlowMs * Math.min(this.#pendingSlow.size, HOLD_COUNTS_AT_MOST);
  }

  /** One timer: when the oldest held unit has been held long enough (see #holdMs), it starts anyway. */
  #armHoldWake(now: number): void {
    const oldest = this.#pending.peek();
    if (this.#holdTimer !== undefined || this.#closed || oldest === undefined) return;
    const inMs = Math.max(1, Math.ceil(oldest.enqueuedAt + this.#holdMs() - now));
    this.#holdTimer = this.#clock.setTimeout(() => {
      this.#holdTimer = undefined;
      this.#wakeHeld();
    }, inMs);
  }

  /** Work held for a slow-lane unit may start: feed the open connections, borrow for the rest. */
  #wakeHeld(): void {
    if (this.#waking || this.#closed) return;
    this.#waking = true;
    try {
      const now = this.#now();
      for (const slot of [...this.#slots]) if (!slot.dead) this.#feed(slot, now);
      this.#grow();
      // Node's timers may fire a little before the hold runs out by this clock: then wait again.
      const oldest = this.#pending.peek();
      if (oldest !== undefined && this.#held(oldest, now)) this.#armHoldWake(now);
    } finally {
      this.#waking = false;
    }
  }

  /** Slow-lane units allowed at once: a share of the pool while shared work is about, else every connection. */
  #slowLaneLimit(now: number): number {
    const max = this.#pool.settings.size + this.#pool.settings.maxOverflow;
    const sharedAbout = this.#sharedInFlight > 0 || this.#pending.size > 0 || now - this.#lastSharedAt < SHARED_RECENT_MS;
    return sharedAbout ? Math.max(1, Math.floor(max * this.#settings.exclusiveShare)) : max;
  }

  #start<T>(
    slot: Slot<C>,
    task: SharedTask<C, T>,
    shape: WorkShape | undefined,
    lane: Lane,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    since: number,
    startedAt: number,
  ): void {
    if (slot.inFlight === 0) {
      slot.progressAt = startedAt;
      slot.lateAtProgress = this.#lateness(startedAt);
      slot.suspected = false;
    }
    const exclusive = lane !== Lane.SHARED;
    if (exclusive) {
      slot.exclusive = true;
      this.#exclusiveInFlight++;
      if (lane === Lane.SLOW) this.#slowInFlight++;
      this.#exclusiveRuns++;
      if (shape !== undefined) shape.exclusiveRuns++;
    } else {
      this.#sharedInFlight++;
      this.#sharedRuns++;
      this.#lastSharedAt = startedAt;
      if (shape !== undefined) shape.sharedRuns++;
    }
    // The first unit of a tick too: the callers a burst of answers wakes up follow it in the same tick,
    // and one write for all of them cost 1 to 3 % less CPU per statement than writing the first alone.
    this.#use.batch?.(slot.connection);
    const size = shape === undefined ? 0 : shape.size;
    slot.inFlight++;
    slot.sizeInFlight += size;
    this.#inFlight++;
    this.#load += (this.#inFlight - this.#load) * EWMA_WEIGHT;
    const events = this.#events;
    const observed = events.observed();
    if (observed)
      events.checkout({
        connectionId: slot.lease.connectionId,
        waitMs: since === 0 ? 0 : startedAt - since,
        shared: true,
        exclusive,
      });
    /** Take the unit off the books, once: false when it was already settled (failed with its connection, or answered). */
    const settle = (now: number): boolean => {
      if (job.settled) return false;
      job.settled = true;
      slot.jobs.delete(job);
      slot.inFlight--;
      slot.sizeInFlight -= size;
      this.#inFlight--;
      if (exclusive) {
        slot.exclusive = false;
        this.#exclusiveInFlight--;
        if (lane === Lane.SLOW) this.#slowInFlight--;
      } else {
        this.#sharedInFlight--;
      }
      if (observed) events.checkin({ connectionId: slot.lease.connectionId, heldMs: now - startedAt, shared: true, exclusive });
      return true;
    };
    const job: Job = {
      settled: false,
      shape,
      fail: (error) => {
        if (settle(this.#now())) reject(error);
      },
    };
    slot.jobs.add(job);
    const done = (error: unknown, value?: T, answerSize?: number): void => {
      const now = this.#now();
      if (!settle(now)) return;
      if (shape !== undefined && answerSize !== undefined) ShapeCosts.observeSize(shape, answerSize);
      // Sent before the previous answer arrived: the gap between the two answers is the time the server
      // spent on this one, free of the round trip (which pipelining hides); sent alone, the round trip is in.
      const behind = startedAt < slot.progressAt;
      const late = this.#lateness(now);
      if (shape !== undefined) {
        // Time this process stood still meanwhile (descheduled, a long turn) is not the statement's.
        const stood = late - slot.lateAtProgress;
        const sampleMs = behind ? now - slot.progressAt - stood : this.#aloneSample(now - startedAt - stood);
        ShapeCosts.observe(shape, sampleMs, !exclusive, this.#slowMs(), this.#suddenMs());
      }
      // The typical shared unit (which sets how deep connections pipeline): units that went out alone say
      // nothing. A sample is capped at a few times the estimate: a stall of the machine (a descheduled
      // backend, a long tick here) must not read as slow statements, while a real slowdown still compounds.
      if (behind && !exclusive) {
        const sample = Math.min(now - slot.progressAt, this.#serviceMs * SAMPLE_CAP + SAMPLE_FLOOR_MS);
        this.#serviceMs += (sample - this.#serviceMs) * EWMA_WEIGHT;
      }
      slot.progressAt = now;
      slot.lateAtProgress = late;
      slot.suspected = false;
      if (error !== undefined && error !== null) {
        if (this.#use.isFatal(error)) this.#fail(slot, error);
        else this.#after(slot, now);
        reject(error);
      } else {
        this.#after(slot, now);
        resolve(value as T);
      }
    };
    try {
      task(slot.connection, done);
    } catch (error) {
      done(error ?? new Error('shared task threw'));
    }
    this.#armStallCheck();
  }

  /** A unit of work finished on `slot`: decide whether it takes more, drains or goes home. */
  #after(slot: Slot<C>, now: number): void {
    if (slot.dead) return;
    if (!slot.draining) {
      if (!this.#use.shareable(slot.connection)) this.#drain(slot);
      else if (this.#draining === 0 && this.#shouldYield(slot, now)) this.#drain(slot);
    }
    if (slot.draining) {
      if (slot.inFlight === 0) this.#release(slot);
      else if (this.#pendingSlow.size > 0) {
        // The slow lane has room again: its waiting work goes to another open connection.
        const other = this.#pick(now, 0);
        if (other !== undefined) this.#feed(other, now);
      }
      return;
    }
    this.#feed(slot, now);
    // Idle: home at once, so status() tells the truth and exclusive borrowers never wait for an idle shared connection.
    if (slot.inFlight === 0) this.#release(slot);
  }

  /**
   * Now and then pipeline one unit anyway although the estimate says spread: units that go out alone
   * measure nothing, so without probes an estimate inflated once would never come back down.
   */
  #probe(): boolean {
    this.#probes = (this.#probes + 1) & (PROBE_EVERY - 1);
    return this.#probes === 0;
  }

  /** The unit about to be placed on `slot` would wait behind less than the latency budget. */
  #withinBudget(slot: Slot<C>): boolean {
    return slot.inFlight === 0 || slot.inFlight * this.#serviceMs < this.#settings.spreadAfterMs;
  }

  /** The pool can lend one more connection without a wait (idle, or room to open one). */
  #canGrowNow(): boolean {
    const pool = this.#pool;
    if (this.#slots.length - this.#draining + this.#acquiring >= pool.settings.size + pool.settings.maxOverflow) return false;
    const status = pool.status();
    return status.checkedIn > 0 || status.total < status.max;
  }

  /**
   * Let this connection go home when others wait for the pool, when it was held long enough, or when
   * the other open connections can carry the load within the latency budget (half of it, so the set
   * does not flap). Connections blocked by an exclusive unit carry no shared load.
   */
  #shouldYield(slot: Slot<C>, now: number): boolean {
    const open = this.#slots.length - this.#exclusiveInFlight;
    if (open > 1 && this.#pending.size === 0 && this.#load * this.#serviceMs < (open - 1) * this.#settings.spreadAfterMs * 0.5) return true;
    if (now - slot.heldAt >= this.#settings.maxHoldMs) return true;
    return this.#pool.status().waiting > this.#acquiring;
  }

  /**
   * Hand waiting work to `slot` while it has room, oldest first across both queues: shared work within
   * the latency budget (or up to the bound when the pool has no other connection to lend at once: then
   * pipelining deeper is the only way forward), until an exclusive unit goes last; slow-lane work only
   * while the lane has room.
   */
  #feed(slot: Slot<C>, now: number): void {
    if (slot.inFlight > 0 && this.#stuck(slot, now)) return;
    const pendingSlow = this.#pendingSlow.size;
    this.#feedOne(slot, now);
    // A slow-lane unit started: work held back for it may start now, on the other connections.
    if (this.#pendingSlow.size < pendingSlow && this.#pending.size > 0) this.#wakeHeld();
  }

  #feedOne(slot: Slot<C>, now: number): void {
    while (slot.inFlight < this.#settings.maxInFlight && !slot.draining && !slot.dead && !slot.exclusive) {
      const queue = this.#oldestReady(now);
      if (queue === undefined) return;
      const waiter = queue.peek() as Waiter<Slot<C>>;
      const shape = waiter.context as WorkShape | undefined;
      if (slot.inFlight > 0 && this.#full(slot, shape === undefined ? 0 : shape.size)) return;
      if ((shape === undefined || shape.lane === Lane.SHARED) && !this.#withinBudget(slot) && this.#canGrowNow()) {
        this.#grow();
        return;
      }
      queue.shift();
      waiter.live = false;
      waiter.resolve(slot);
    }
  }

  /**
   * The queue whose first waiter came first and may start now: slow-lane work only while the lane has
   * room. Work queued for the slow lane as unknown and learned fast meanwhile takes its turn by age,
   * not behind every newer shared statement.
   */
  #oldestReady(now: number): WaiterQueue<Slot<C>> | undefined {
    const shared = this.#pending.peek();
    const slow = this.#pendingSlow.peek();
    const slowReady =
      slow !== undefined &&
      ((slow.context as WorkShape | undefined)?.lane !== Lane.SLOW || this.#slowInFlight + this.#slowBorrowing < this.#slowLaneLimit(now));
    if (!slowReady) {
      if (shared === undefined) return undefined;
      if (this.#held(shared, now)) {
        this.#armHoldWake(now);
        return undefined;
      }
      return this.#pending;
    }
    return shared !== undefined && shared.enqueuedAt <= (slow as Waiter<Slot<C>>).enqueuedAt ? this.#pending : this.#pendingSlow;
  }

  /**
   * Borrow connections for the work waiting: as many as shared work needs at the pipeline depth the
   * budget allows (measured), plus one per slow-lane unit the lane has room for, within size +
   * maxOverflow. A request the pool cannot serve at once waits in its queue.
   */
  #grow(): void {
    if (this.#closed || (this.#pending.size === 0 && this.#pendingSlow.size === 0)) return;
    const pool = this.#pool;
    const now = this.#now();
    const perConnection = Math.max(1, Math.min(this.#settings.maxInFlight, Math.floor(this.#settings.spreadAfterMs / this.#serviceMs)));
    const slowRoom = Math.max(0, this.#slowLaneLimit(now) - this.#slowInFlight - this.#slowBorrowing);
    // Work held back for a waiting slow-lane unit needs no connection yet (all of it, when the oldest is).
    const oldestShared = this.#pending.peek();
    const sharedHeld = oldestShared !== undefined && this.#held(oldestShared, now);
    const needed = (sharedHeld ? 0 : Math.ceil(this.#pending.size / perConnection)) + Math.min(this.#pendingSlow.size, slowRoom);
    const max = pool.settings.size + pool.settings.maxOverflow;
    while (this.#freshAcquiring < needed && this.#slots.length - this.#draining + this.#acquiring < max) {
      this.#borrow(
        false,
        (lease) => this.#adopt(lease),
        (error) => this.#acquireFailed(error),
      );
    }
  }

  /**
   * Ask the pool for a connection on behalf of admitted work (`slow`: for one slow-lane unit, which
   * counts in the lane meanwhile). Usually the pool lends at once or after one connect; a request
   * still pending after SLOW_BORROW_MS may be stuck (validating idle connections that a dead network
   * swallowed, one after another, or connecting into it), so it stops counting towards what #grow
   * needs and the work waiting gets another request, within size + maxOverflow. The pool's own
   * exclusive waiters get the same: one validation or connect each, in parallel.
   */
  #borrow(slow: boolean, adopt: (lease: Lease<C>) => void, failed: (error: unknown) => void): void {
    const request: Borrow = { startedAt: this.#now(), slow: false };
    this.#acquiring++;
    this.#freshAcquiring++;
    if (slow) this.#slowBorrowing++;
    this.#borrowing.add(request);
    const settle = (): void => {
      this.#acquiring--;
      if (slow) this.#slowBorrowing--;
      this.#borrowing.delete(request);
      if (!request.slow) this.#freshAcquiring--;
    };
    this.#pool.acquire({ shared: true }).then(
      (lease) => {
        settle();
        adopt(lease);
      },
      (error) => {
        settle();
        failed(error);
      },
    );
    this.#armSlowBorrowCheck();
  }

  /** One timer while requests are pending: marks those older than SLOW_BORROW_MS slow and grows again. */
  #armSlowBorrowCheck(): void {
    if (this.#slowBorrowTimer !== undefined || this.#closed) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const request of this.#borrowing) if (!request.slow && request.startedAt < oldest) oldest = request.startedAt;
    if (oldest === Number.POSITIVE_INFINITY) return;
    this.#slowBorrowTimer = setTimeout(
      () => {
        this.#slowBorrowTimer = undefined;
        const now = this.#now();
        for (const request of this.#borrowing) {
          if (!request.slow && now - request.startedAt >= SLOW_BORROW_MS) {
            request.slow = true;
            this.#freshAcquiring--;
          }
        }
        this.#grow();
        this.#armSlowBorrowCheck();
      },
      Math.max(1, Math.ceil(oldest + SLOW_BORROW_MS - this.#now())),
    );
    // Waiting callers keep their own (referenced) timeout timer; this one must not hold the process.
    this.#slowBorrowTimer.unref();
  }

  /** Take a lent connection into shared use; `first` (a caller that asked for it directly) starts on it before the waiting ones. */
  #adopt(lease: Lease<C>, first?: (slot: Slot<C>) => void, firstFailed?: (error: unknown) => void): void {
    let connection: C;
    try {
      connection = lease.connection;
      if (this.#closed) throw new PoolClosedError(this.#pool.name);
      this.#use.enter(connection);
    } catch (error) {
      lease.release();
      firstFailed?.(error);
      return;
    }
    const now = this.#now();
    const slot: Slot<C> = {
      lease,
      connection,
      inFlight: 0,
      sizeInFlight: 0,
      exclusive: false,
      draining: false,
      dead: false,
      heldAt: now,
      progressAt: now,
      lateAtProgress: this.#lateness(now),
      suspected: false,
      jobs: new Set(),
    };
    this.#slots.push(slot);
    this.#armBeat();
    first?.(slot);
    this.#feed(slot, now);
    if (this.#pending.size > 0 || this.#pendingSlow.size > 0) {
      // The pool may have nothing more to lend: then the others take what they can, up to the bound.
      for (const other of [...this.#slots]) if (other !== slot && !other.dead) this.#feed(other, now);
      this.#grow();
    }
    if (slot.inFlight === 0) this.#release(slot);
  }

  #acquireFailed(error: unknown): void {
    const code = error instanceof SpillwayError ? error.code : undefined;
    if (code === 'POOL_TIMEOUT') {
      // Waiting work has its own deadlines; ask again for the rest.
      this.#grow();
      return;
    }
    if (code === 'POOL_CLOSED' || code === 'CIRCUIT_OPEN') {
      for (const waiter of [...this.#pending.drain(), ...this.#pendingSlow.drain()]) {
        waiter.live = false;
        waiter.reject(error);
      }
      return;
    }
    // A connect failure: the oldest waiting caller learns why (as with an exclusive checkout); the rest keep waiting.
    const waiter = this.#pending.shift() ?? this.#pendingSlow.shift();
    if (waiter !== undefined) {
      waiter.live = false;
      waiter.reject(error);
    }
    this.#grow();
  }

  #drain(slot: Slot<C>): void {
    if (slot.draining || slot.dead) return;
    slot.draining = true;
    this.#draining++;
    if (slot.inFlight === 0) this.#release(slot);
  }

  #remove(slot: Slot<C>): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0) this.#slots.splice(index, 1);
    if (slot.draining) this.#draining--;
    if (this.#slots.length === 0) {
      if (this.#stallTimer !== undefined) clearInterval(this.#stallTimer);
      this.#stallTimer = undefined;
      if (this.#beatTimer !== undefined) clearInterval(this.#beatTimer);
      this.#beatTimer = undefined;
      this.#onEmpty?.();
    }
  }

  /** Back to exclusive use and home to the pool; waiting work then needs another connection. */
  #release(slot: Slot<C>): void {
    if (slot.dead) return;
    slot.dead = true;
    this.#remove(slot);
    try {
      this.#use.leave(slot.connection);
      slot.lease.release();
    } catch (error) {
      if (!slot.lease.released) slot.lease.release(error);
    }
    this.#grow();
  }

  /**
   * The connection broke (or is stuck, or the pool is closing): discard it. Work in flight on it fails
   * (with `error` when given, else with the driver's own error); work not yet sent goes elsewhere.
   */
  #fail(slot: Slot<C>, error: unknown): void {
    if (slot.dead) return;
    slot.dead = true;
    this.#remove(slot);
    if (error !== undefined) {
      // Work started on a slot has been written: an error that says otherwise (a refusal, the pool
      // closing) is the failing unit's own, not theirs, so the others learn the answer was lost.
      const inFlight =
        outcomeOf(error) === 'unknown'
          ? error
          : new ConnectionLostError('shared connection failed with this statement in flight; its answer was lost', {
              cause: error,
              connectionUnusable: true,
            });
      for (const job of [...slot.jobs]) job.fail(inFlight);
    }
    this.#use.abort(slot.connection);
    if (!slot.lease.released) slot.lease.release(error ?? new ConnectionLostError('shared connection is no longer usable'));
    this.#grow();
  }

  /**
   * How late this process has run, summed, up to `now` (ms): what the heartbeat counted, plus the beat
   * overdue now. Answers read after the process stood still (descheduled on a loaded machine, a GC
   * pause, a long turn) arrive late on every connection at once; read as cost, that would put fast
   * statements on probation or in the slow lane, and connections would look stuck. The heartbeat runs
   * only while connections are held: a timer every LOOP_BEAT_MS, a few microseconds each.
   */
  #lateness(now: number): number {
    if (this.#beatTimer === undefined) return this.#lateMs;
    const overdue = now - this.#beatAt - (this.#settings.loopBeatMs ?? LOOP_BEAT_MS) - LATE_BEAT_MS;
    return overdue > 0 ? this.#lateMs + overdue : this.#lateMs;
  }

  #armBeat(): void {
    const beatMs = this.#settings.loopBeatMs ?? LOOP_BEAT_MS;
    if (this.#beatTimer !== undefined || beatMs <= 0) return;
    this.#beatAt = this.#now();
    this.#beatTimer = setInterval(() => {
      const now = this.#now();
      const late = now - this.#beatAt - beatMs;
      if (late > LATE_BEAT_MS) this.#lateMs += late - LATE_BEAT_MS;
      this.#beatAt = now;
    }, beatMs);
    this.#beatTimer.unref();
  }

  /** One unref'd interval while connections are held, not a timer per statement. */
  #armStallCheck(): void {
    const stallMs = this.#settings.stallTimeoutMs;
    if (this.#stallTimer !== undefined || stallMs <= 0) return;
    const every = Math.max(SWEEP_MIN_MS, Math.min(SWEEP_MAX_MS, Math.floor(stallMs / 4)));
    this.#stallTimer = setInterval(() => {
      const now = this.#now();
      for (const slot of [...this.#slots]) {
        if (slot.inFlight > 0 && now - slot.progressAt >= stallMs) this.#fail(slot, new StatementTimeoutError(stallMs));
      }
    }, every);
    this.#stallTimer.unref();
  }

  #timeOut(waiter: Waiter<Slot<C>>, now: number): void {
    const pool = this.#pool;
    const status = pool.status();
    const waiting = status.waiting + this.#pending.size + this.#pendingSlow.size;
    this.#events.timeout({ waitMs: now - waiter.enqueuedAt, waiting });
    waiter.reject(new PoolTimeoutError(pool.name, { ...status, waiting }, Math.round(now - waiter.enqueuedAt), pool.lastConnectError));
  }
}
