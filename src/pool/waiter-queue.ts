import type { Clock, ClockTimer } from './clock.js';

/**
 * A caller waiting for a connection. A class with a fixed shape, and times kept as whole
 * milliseconds (small integers, not boxed doubles): a thousand waiters should cost kilobytes.
 */
export class Waiter<T> {
  resolve: (value: T) => void = noop;
  reject: (error: unknown) => void = noop;
  /** Monotonic ms at which the wait times out (Infinity for none). */
  deadline: number;
  enqueuedAt: number;
  /** False once resolved, rejected or removed. */
  live = true;
  /** Taken off the queue while a connection is pinged for it: the queue's timer no longer covers it. */
  validating = false;
  /** Detaches the AbortSignal listener, if any. */
  cleanup: (() => void) | undefined = undefined;
  /** What the pool's gate returned at admission (leak detection's call-site trace), if anything. */
  context: unknown = undefined;

  constructor(deadline: number, enqueuedAt: number) {
    this.deadline = deadline;
    this.enqueuedAt = enqueuedAt;
  }
}

function noop(): void {}

/**
 * Strict FIFO of waiters with one timer for the whole queue, not one per waiter: peers pay a
 * setTimeout per checkout, which is most of their overhead. While deadlines arrive in order
 * (every caller uses the pool's timeout) the queue is sorted by deadline and only the head is
 * checked; a shorter per-call timeout switches to a full sweep until the queue drains.
 *
 * Written here rather than taken from a library because the single shared timer is the point.
 */
export class WaiterQueue<T> {
  #items: (Waiter<T> | undefined)[] = [];
  #head = 0;
  #live = 0;
  #sorted = true;
  #lastDeadline = -Infinity;
  #timer: ClockTimer | undefined = undefined;
  #armedFor = Infinity;
  readonly #onExpire: (waiter: Waiter<T>, now: number) => void;
  readonly #clock: Clock;

  constructor(onExpire: (waiter: Waiter<T>, now: number) => void, clock: Clock) {
    this.#onExpire = onExpire;
    this.#clock = clock;
  }

  /** Waiters still waiting. */
  get size(): number {
    return this.#live;
  }

  push(waiter: Waiter<T>): void {
    this.#items.push(waiter);
    this.#live++;
    if (waiter.deadline < this.#lastDeadline) this.#sorted = false;
    else this.#lastDeadline = waiter.deadline;
    if (waiter.deadline < this.#armedFor) this.#arm(waiter.deadline);
  }

  /** Put a waiter back at the front (its connection failed validation); it keeps its place. */
  unshift(waiter: Waiter<T>): void {
    if (!waiter.live) return;
    if (this.#head > 0) this.#items[--this.#head] = waiter;
    else this.#items.unshift(waiter);
    this.#live++;
    this.#sorted = false;
    if (waiter.deadline < this.#armedFor) this.#arm(waiter.deadline);
  }

  /** The oldest live waiter, left in the queue. */
  peek(): Waiter<T> | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head];
      if (waiter?.live) return waiter;
      this.#items[this.#head++] = undefined;
    }
    return undefined;
  }

  /** Take the oldest live waiter (it stays `live`: the caller settles it). */
  shift(): Waiter<T> | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (waiter?.live) {
        this.#live--;
        this.#compact();
        return waiter;
      }
    }
    this.#reset();
    return undefined;
  }

  /** Remove a waiter wherever it stands (abort); it is skipped when reached. */
  remove(waiter: Waiter<T>): void {
    if (!waiter.live) return;
    waiter.live = false;
    this.#live--;
    if (this.#live === 0) this.#reset();
  }

  /** Remove and return every live waiter (pool closing). */
  drain(): Waiter<T>[] {
    const out: Waiter<T>[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const waiter = this.#items[i];
      if (waiter?.live) out.push(waiter);
    }
    this.#reset();
    return out;
  }

  #reset(): void {
    this.#items = [];
    this.#head = 0;
    this.#live = 0;
    this.#sorted = true;
    this.#lastDeadline = -Infinity;
    if (this.#timer !== undefined) {
      this.#clock.clear(this.#timer);
      this.#timer = undefined;
      this.#armedFor = Infinity;
    }
  }

  #compact(): void {
    if (this.#live === 0) {
      this.#reset();
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(deadline: number): void {
    if (deadline === Infinity) return;
    this.#clock.clear(this.#timer);
    this.#armedFor = deadline;
    // Kept referenced: a caller is waiting, and its timeout is work the process still has to do.
    // It exists only while waiters do, so an idle pool still never keeps the process alive.
    this.#timer = this.#clock.setTimeout(() => this.#expire(), Math.max(0, Math.ceil(deadline - this.#clock.now())), true);
  }

  #expire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    if (this.#sorted) {
      while (this.#head < this.#items.length) {
        const waiter = this.#items[this.#head];
        if (waiter === undefined || !waiter.live) {
          this.#head++;
          continue;
        }
        if (waiter.deadline > now) {
          next = waiter.deadline;
          break;
        }
        this.#items[this.#head++] = undefined;
        this.#timeOut(waiter, now);
      }
    } else {
      for (let i = this.#head; i < this.#items.length; i++) {
        const waiter = this.#items[i];
        if (waiter === undefined || !waiter.live) continue;
        if (waiter.deadline <= now) this.#timeOut(waiter, now);
        else if (waiter.deadline < next) next = waiter.deadline;
      }
    }
    if (this.#live === 0) this.#reset();
    else this.#arm(next);
  }

  #timeOut(waiter: Waiter<T>, now: number): void {
    waiter.live = false;
    this.#live--;
    this.#onExpire(waiter, now);
  }
}
