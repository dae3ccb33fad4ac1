import { LeakReclaimedError, PoolClosedError, ReleasedTwiceError } from '../errors.js';
import type { PoolEntry } from './entry.js';

/** What a lease needs from its pool: a way back. */
export interface LeaseOwner<C> {
  readonly name: string;
  checkin(entry: PoolEntry<C>, lease: Lease<C>, error: unknown): void;
}

/**
 * One checkout: released exactly once. `release(err)` discards the connection instead of returning it.
 * Supports `using`/`await using` so a block returns its connection on every path.
 */
export class Lease<C> {
  readonly #owner: LeaseOwner<C>;
  readonly #entry: PoolEntry<C>;
  #released = false;
  #reclaimedAfterMs: number | undefined = undefined;
  #closedUnderHolder = false;

  constructor(owner: LeaseOwner<C>, entry: PoolEntry<C>) {
    this.#owner = owner;
    this.#entry = entry;
  }

  /** The driver's connection. Throws LEAK_RECLAIMED once the pool has taken it back. */
  get connection(): C {
    if (this.#closedUnderHolder) throw new PoolClosedError(this.#owner.name);
    if (this.#reclaimedAfterMs !== undefined) throw new LeakReclaimedError(this.#owner.name, this.#reclaimedAfterMs);
    return this.#entry.connection as C;
  }

  /** Stable id of the underlying connection (for logs and events). */
  get connectionId(): number {
    return this.#entry.id;
  }

  get released(): boolean {
    return this.#released;
  }

  /** Return the connection; with an error, discard it. A second call throws RELEASED_TWICE. */
  release(error?: unknown): void {
    if (this.#released) {
      if (this.#reclaimedAfterMs !== undefined) return;
      throw new ReleasedTwiceError(this.#owner.name);
    }
    this.#released = true;
    this.#owner.checkin(this.#entry, this, error);
  }

  /**
   * Called by the pool when it takes the connection back: a leak reclaimed (LEAK_RECLAIMED on next
   * use), or the pool closed past its grace (POOL_CLOSED on next use).
   */
  revoke(heldMs: number, poolClosed = false): void {
    this.#reclaimedAfterMs = heldMs;
    this.#closedUnderHolder = poolClosed;
    this.#released = true;
  }

  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#released) this.release();
  }
}
