import { ConnectTimeoutError, PoolClosedError } from '../errors.js';
import type { ClockTimer } from './clock.js';
import { EntryState, PoolEntry } from './entry.js';
import type { Lease } from './lease.js';
import type { PoolCore } from './pool-core.js';
import type { Waiter } from './waiter-queue.js';

const RECYCLE_JITTER = 0.025;

/**
 * A connect attempt pending longer than HEDGE_FACTOR times the typical connect (and at least
 * HEDGE_FLOOR_MS) is stale: on a dropped network (a blackhole, a firewall that forgot the flow) it
 * would otherwise hold its slot for the whole connectTimeoutMs, even after the network is back. The
 * floor sets how soon after such a fault ends a fresh attempt starts (the issue asks for service back
 * within 0.5 s); the factor keeps a connect that is merely slower than average from counting as stale.
 */
const HEDGE_FLOOR_MS = 200;
const HEDGE_FACTOR = 4;
/** Timers may fire a little early against this.#core.clock.now(): look again just after the attempt turns stale. */
const HEDGE_SLACK_MS = 5;
/** Weight of the newest successful connect in the typical connect time (an exponential moving average). */
const CONNECT_EWMA_WEIGHT = 0.2;

/**
 * Opens connections for one pool (HikariCP's PoolBase and its add-connection executor): one attempt
 * per call, bounded by connectTimeoutMs, with recycle jitter, the typical connect time (a moving
 * average) and hedging of attempts stuck on a dropped network. What to do with a connection once
 * open, or with a failure, is the pool's: {@link PoolCore.giveBack}, {@link PoolCore.dispatch}.
 */
export class ConnectionOpener<C> {
  readonly #core: PoolCore<C>;
  readonly #hedging: boolean;
  #nextId = 1;
  #lastConnectError: unknown = undefined;
  /** One timer for the next stale-attempt check (see #hedge). */
  #hedgeTimer: ClockTimer | undefined = undefined;
  /** When the most recent connect attempt began (this.#core.clock.now()). */
  #lastOpenAt = Number.NEGATIVE_INFINITY;
  /** The typical successful connect time (moving average), in ms. */
  #typicalConnectMs = 0;
  /** When the most recent successful connect began (attempts begun well before it and still pending are overtaken). */
  #lastSuccessStartedAt = Number.NEGATIVE_INFINITY;

  constructor(core: PoolCore<C>) {
    this.#core = core;
    this.#hedging = core.settings.hedgeConnects !== false;
  }

  /** The last connect failure, if any (the cause of a POOL_TIMEOUT); cleared by the next success. */
  get lastConnectError(): unknown {
    return this.#lastConnectError;
  }

  /**
   * Callers wait on attempts that may all be stuck: a cheap test for the pool's dispatch, the real
   * one in #hedge.
   */
  hedgeIfDue(now: number): void {
    if (now - this.#lastOpenAt >= HEDGE_FLOOR_MS) this.#hedge();
  }

  /** Open connections up to minIdle; resolves once they are open, rejects with the first failure. */
  async warm(): Promise<void> {
    const { entries, settings, max } = this.#core;
    const missing = settings.minIdle - entries.count(EntryState.Idle) - entries.count(EntryState.InUse);
    const opening: Promise<void>[] = [];
    for (let i = 0; i < missing && entries.slotsTaken() < max; i++) opening.push(this.open(true));
    await Promise.all(opening);
  }

  /** Stop the hedge timer (the pool is closing). */
  stop(): void {
    this.#core.clock.clear(this.#hedgeTimer);
    this.#hedgeTimer = undefined;
  }

  /**
   * Open one connection; when `warm` the failure is recorded but nobody is rejected, and the returned
   * promise rejects with it.
   */
  open(warm: boolean): Promise<void> {
    const now = this.#core.clock.now();
    const recycleMs = this.#core.settings.recycleMs;
    const expiresAt = recycleMs > 0 ? now + recycleMs - Math.random() * recycleMs * RECYCLE_JITTER : Number.POSITIVE_INFINITY;
    const entry = new PoolEntry<C>(this.#nextId++, now, expiresAt);
    this.#core.entries.add(entry);
    this.#lastOpenAt = now;
    const timeoutMs = this.#core.settings.connectTimeoutMs;
    const controller = new AbortController();
    const connecting = this.#core.connector.connect({
      timeoutMs,
      signal: controller.signal,
      onBroken: (error) => this.#core.broken(entry, error),
    });
    return new Promise<void>((resolve, reject) => {
      let timer: ClockTimer | undefined;
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#core.clock.clear(timer);
        entry.abandon = undefined;
        return true;
      };
      /** The pool stops waiting for this attempt: cut its socket, free its slot, close it if it still arrives. */
      const giveUp = (error: unknown, abandoned: boolean): void => {
        if (!settle()) return;
        controller.abort(error);
        connecting.then(
          (late) => this.#core.connector.close(late),
          () => undefined,
        );
        this.#core.entries.forget(entry);
        if (abandoned) {
          this.#core.stats.connectsAbandoned++;
          if (warm) reject(error);
          else resolve();
          return;
        }
        this.#connectFailed(error, now, warm);
        if (warm) reject(error);
        else resolve();
      };
      timer = this.#core.clock.setTimeout(() => giveUp(new ConnectTimeoutError(this.#core.connector.target, timeoutMs), false), timeoutMs);
      const hedgeAfterMs = this.#hedgeAfterMs();
      if (hedgeAfterMs < timeoutMs) this.#scheduleHedge(hedgeAfterMs);
      entry.abandon = () =>
        giveUp(
          this.#core.closing()
            ? new PoolClosedError(this.#core.name)
            : new ConnectTimeoutError(this.#core.connector.target, Math.round(this.#core.clock.now() - now)),
          true,
        );
      connecting.then(
        (connection) => {
          if (!settle()) return; // given up meanwhile: giveUp closes it
          entry.connection = connection;
          this.#core.stats.created++;
          this.#lastConnectError = undefined;
          this.#core.gate()?.connectResult?.(undefined, now);
          const at = this.#core.clock.now();
          this.#typicalConnectMs += CONNECT_EWMA_WEIGHT * (at - now - this.#typicalConnectMs);
          this.#lastSuccessStartedAt = Math.max(this.#lastSuccessStartedAt, now);
          entry.validatedAt = at;
          entry.lastUsedAt = at;
          this.#core.emit('connect', { connectionId: entry.id, durationMs: at - now });
          this.#core.entries.setState(entry, EntryState.InUse);
          if (this.#core.closing()) this.#core.destroy(entry, 'closed');
          else {
            this.#core.giveBack(entry, at);
            this.#core.dispatch();
            // The server answers: attempts still pending from before are lost, replace them now.
            if (this.#core.queue.size > 0 && this.#core.entries.count(EntryState.Opening) > 0) this.#hedge();
          }
          resolve();
        },
        (error) => giveUp(error, false),
      );
    });
  }

  /** A connect attempt failed (refused, timed out, rejected by the server). */
  #connectFailed(error: unknown, startedAt: number, warm: boolean): void {
    this.#core.stats.connectFailures++;
    this.#lastConnectError = error;
    this.#core.gate()?.connectResult?.(error, startedAt);
    if (this.#core.listenerCount('error') > 0) this.#core.emit('error', error);
    if (this.#core.queue.size > 0 && !warm) {
      // The oldest waiter learns why (as pg-pool does); the rest keep waiting and may get a new attempt.
      const waiter = this.#core.queue.shift() as Waiter<Lease<C>>;
      waiter.live = false;
      waiter.cleanup?.();
      waiter.reject(error);
      this.#core.dispatch();
    }
  }

  /** How long a connect attempt may be pending before it is stale (see HEDGE_FACTOR). */
  #hedgeAfterMs(): number {
    return Math.min(this.#core.settings.connectTimeoutMs, Math.max(HEDGE_FLOOR_MS, HEDGE_FACTOR * this.#typicalConnectMs));
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
    if (!this.#hedging || this.#core.closing() || this.#core.queue.size === 0) return;
    const now = this.#core.clock.now();
    const hedgeAfterMs = this.#hedgeAfterMs();
    const staleBefore = now - hedgeAfterMs;
    const overtaken: PoolEntry<C>[] = [];
    let stale = 0;
    let youngestStale: PoolEntry<C> | undefined;
    let youngestFresh: PoolEntry<C> | undefined;
    for (const entry of this.#core.entries.all) {
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
      this.#core.dispatch(); // opens as many as the callers need
      return;
    }
    if (youngestFresh !== undefined) {
      // A fresh attempt is under way: look again when it turns stale.
      this.#scheduleHedge(youngestFresh.createdAt + hedgeAfterMs - now);
      return;
    }
    if (youngestStale === undefined) return;
    if (this.#core.entries.slotsTaken() >= this.#core.max) {
      if (stale < 2) return;
      youngestStale.abandon?.();
    }
    void this.open(false);
  }

  /** Run #hedge in `delayMs` (unless a check is already due): one pool-wide, unref'd timer. */
  #scheduleHedge(delayMs: number): void {
    if (!this.#hedging || this.#hedgeTimer !== undefined || this.#core.closing()) return;
    this.#hedgeTimer = this.#core.clock.setTimeout(() => {
      this.#hedgeTimer = undefined;
      this.#hedge();
    }, Math.max(0, delayMs) + HEDGE_SLACK_MS);
  }
}
