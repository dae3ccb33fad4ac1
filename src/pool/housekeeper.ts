import type { ClockTimer } from './clock.js';
import { EntryState, type PoolEntry } from './entry.js';
import type { PoolCore } from './pool-core.js';

/**
 * The pool's background care (HikariCP's HouseKeeper): every housekeepingIntervalMs, recycle idle
 * connections past their age, close idle ones above minIdle unused for idleTimeoutMs, and open
 * connections up to minIdle. Its timer is unref'd and stops with the pool. While it runs it also
 * keeps the coarse clock ticking (clock.ts), which the checkout hot path reads.
 */
export class Housekeeper<C> {
  readonly #core: PoolCore<C>;
  #timer: ClockTimer | undefined = undefined;
  #releaseClock: (() => void) | undefined = undefined;

  constructor(core: PoolCore<C>) {
    this.#core = core;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#core.clock.setInterval(() => this.pass(), this.#core.settings.housekeepingIntervalMs);
    this.#releaseClock = this.#core.clock.retain();
  }

  stop(): void {
    this.#core.clock.clear(this.#timer);
    this.#timer = undefined;
    this.#releaseClock?.();
    this.#releaseClock = undefined;
  }

  /** One pass: reap idle above minIdle, recycle expired idle, top up minIdle. */
  pass(): void {
    const core = this.#core;
    if (core.closing()) return;
    const { idle, counts } = core.entries;
    const { minIdle, idleTimeoutMs } = core.settings;
    const now = core.clock.now();
    // Oldest-used first: the front of the idle stack.
    for (let i = 0; i < idle.length; ) {
      const entry = idle[i] as PoolEntry<C>;
      if (now >= entry.expiresAt) {
        idle.splice(i, 1);
        core.stats.recycled++;
        core.emit('recycle', { connectionId: entry.id, ageMs: now - entry.createdAt });
        core.destroy(entry, 'recycled');
        continue;
      }
      const above = counts[EntryState.Idle] + counts[EntryState.InUse] - minIdle;
      if (above > 0 && idleTimeoutMs > 0 && now - entry.lastUsedAt >= idleTimeoutMs) {
        idle.splice(i, 1);
        core.destroy(entry, 'idle');
        continue;
      }
      i++;
    }
    core.topUp();
  }
}
