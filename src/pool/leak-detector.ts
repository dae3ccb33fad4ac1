import type { ClockTimer } from './clock.js';
import type { PoolEntry } from './entry.js';
import type { ConnectionPool } from './pool.js';

export interface LeakDetectorSettings {
  /** A connection held longer than this is reported (must be > 0; 0 means no detector at all). */
  leakThresholdMs: number;
  /** 'reclaim' also takes the connection back: its holder's next use fails LEAK_RECLAIMED. */
  leakAction: 'warn' | 'reclaim';
  /** 'adaptive': sample stacks until the first leak, then capture all; 'always': capture all. */
  leakStackTraces?: 'adaptive' | 'always';
}

/**
 * In adaptive mode, one checkout in this many has its stack captured until a leak is seen. Rarer
 * sampling keeps the captures' average cost a small share of the library's own per-query cost
 * (bench/RESULTS.md, "Figures behind the code's choices"), and a code path that leaks once is
 * captured on every checkout from then on anyway.
 */
const SAMPLE_EVERY = 128;

/** What the pool's `leak` event carries. */
export interface LeakReport {
  connectionId: number;
  heldMs: number;
  stack: string | undefined;
  poolName: string;
}

/** Where a leak warning goes: by default `process.emitWarning` (printed on stderr unless handled). */
export type LeakWarn = (message: string, report: LeakReport) => void;

const defaultWarn: LeakWarn = (message, report) => {
  process.emitWarning(message, { code: 'SPILLWAY_LEAK', detail: report.stack });
};

/** Holds the captured call site without formatting it: V8 formats `stack` lazily, on first read. */
interface Trace {
  stack?: string;
}

/**
 * Leak detection with ONE periodic sweep for the whole pool instead of HikariCP's timer per
 * checkout: a checkout only captures its call site (an unformatted V8 stack trace, about a
 * microsecond), and the sweep, a few times per threshold, looks at the connections lent.
 * With leak detection off there is no detector and no hook, so checkouts pay nothing.
 */
export class LeakDetector {
  readonly #pool: ConnectionPool<unknown>;
  readonly #settings: Readonly<LeakDetectorSettings>;
  readonly #warn: LeakWarn;
  /** Leases already reported, so that one leak is reported once. */
  readonly #reported = new WeakSet<object>();
  #timer: ClockTimer | undefined = undefined;
  /**
   * Capture a stack on every checkout when true. A capture costs more than the rest of a checkout
   * (bench/RESULTS.md, "Figures behind the code's choices"), so the default samples until a leak proves it matters:
   * a leaking code path usually leaks again, and from then on every checkout carries its stack.
   */
  #captureAll: boolean;
  #countdown = 0;

  constructor(pool: ConnectionPool<unknown>, settings: LeakDetectorSettings, warn: LeakWarn = defaultWarn) {
    this.#pool = pool;
    this.#settings = Object.freeze({ ...settings });
    this.#warn = warn;
    this.#captureAll = settings.leakStackTraces === 'always';
  }

  /** Capture the caller's call site at checkout (called on the caller's stack, by the gate's admit). */
  capture(): Trace | undefined {
    if (!this.#captureAll) {
      if (this.#countdown-- > 0) return undefined;
      this.#countdown = SAMPLE_EVERY - 1;
    }
    const trace: Trace = {};
    Error.captureStackTrace(trace, this.capture);
    return trace;
  }

  /** The pool's `lent` hook: remember who took the connection. */
  lent(entry: PoolEntry<unknown>, trace: unknown): void {
    entry.borrowTrace = trace as Trace | undefined;
  }

  /** Start the sweep (unref'd: an idle pool never keeps the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    const everyMs = Math.min(Math.max(Math.round(this.#settings.leakThresholdMs / 4), 10), 5000);
    this.#timer = this.#pool.clock.setInterval(() => this.sweep(), everyMs);
  }

  stop(): void {
    this.#pool.clock.clear(this.#timer);
    this.#timer = undefined;
  }

  /** One pass: report (and with 'reclaim', take back) every connection held past the threshold. */
  sweep(now = this.#pool.clock.now()): void {
    if (this.#pool.closed) {
      this.stop();
      return;
    }
    const threshold = this.#settings.leakThresholdMs;
    const leaked: PoolEntry<unknown>[] = [];
    for (const entry of this.#pool.care.lentEntries()) {
      if (now - entry.checkedOutAt < threshold) continue;
      const lease = entry.lease as object;
      if (this.#reported.has(lease)) continue;
      this.#reported.add(lease);
      leaked.push(entry);
    }
    // Reported after the walk: reclaiming changes the set being walked.
    for (const entry of leaked) this.#report(entry, now);
  }

  #report(entry: PoolEntry<unknown>, now: number): void {
    const heldMs = Math.round(now - entry.checkedOutAt);
    const stack = entry.borrowTrace?.stack?.replace(/^Error\n/, '');
    this.#captureAll = true; // a leak was seen: from now on every checkout keeps its stack
    const report: LeakReport = { connectionId: entry.id, heldMs, stack, poolName: this.#pool.name };
    this.#pool.care.recordLeak();
    const reclaim = this.#settings.leakAction === 'reclaim';
    this.#pool.emit('leak', report);
    this.#warn(
      `Pool "${report.poolName}": connection ${entry.id} held for ${heldMs}ms (leakThresholdMs ${this.#settings.leakThresholdMs})` +
        `${reclaim ? ', reclaimed' : ''}; taken at:\n${stack ?? '(stack not sampled for this checkout; every checkout is captured from now on, or set leakStackTraces: "always")'}`,
      report,
    );
    if (reclaim) this.#pool.care.reclaim(entry, heldMs);
  }
}
