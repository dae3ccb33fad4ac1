import { LeakReclaimedError, LeaseReleasedError, PoolClosedError, ReleasedTwiceError } from '../errors.js';
import type { PoolEntry } from './entry.js';

/** What a lease needs from its pool: a way back. */
export interface LeaseOwner<C> {
  readonly name: string;
  checkin(entry: PoolEntry<C>, lease: Lease<C>, error: unknown): void;
}

/** Lease states, one small integer so a lease is four fields (it is allocated on every checkout). */
const LENT = 0;
const RELEASED = 1;
const RECLAIMED = 2;
const CLOSED = 3;

/**
 * One checkout: released exactly once. `release(err)` discards the connection instead of returning it.
 * Once released, the connection is out of reach (LEASE_RELEASED): it may already serve another borrower.
 * Supports `using`/`await using` so a block returns its connection on every path.
 */
export class Lease<C> {
  readonly #owner: LeaseOwner<C>;
  readonly #entry: PoolEntry<C>;
  #state = LENT;
  #heldMs = 0;

  constructor(owner: LeaseOwner<C>, entry: PoolEntry<C>) {
    this.#owner = owner;
    this.#entry = entry;
  }

  /**
   * The driver's connection. Throws LEASE_RELEASED once released, and LEAK_RECLAIMED (or POOL_CLOSED)
   * once the pool has taken it back.
   */
  get connection(): C {
    if (this.#state !== LENT) throw this.#unusable();
    return this.#entry.connection as C;
  }

  /** Name of the pool this lease came from (for messages). */
  get poolName(): string {
    return this.#owner.name;
  }

  /** Stable id of the underlying connection (for logs and events). */
  get connectionId(): number {
    return this.#entry.id;
  }

  get released(): boolean {
    return this.#state !== LENT;
  }

  /** Return the connection; with an error, discard it. A second call throws RELEASED_TWICE. */
  release(error?: unknown): void {
    if (this.#state !== LENT) {
      if (this.#state !== RELEASED) return; // taken back by the pool already
      throw new ReleasedTwiceError(this.#owner.name);
    }
    this.#state = RELEASED;
    this.#owner.checkin(this.#entry, this, error);
  }

  /**
   * Called by the pool when it takes the connection back: a leak reclaimed (LEAK_RECLAIMED on next
   * use), or the pool closed past its grace (POOL_CLOSED on next use).
   */
  revoke(heldMs: number, poolClosed = false): void {
    this.#heldMs = heldMs;
    this.#state = poolClosed ? CLOSED : RECLAIMED;
  }

  #unusable(): Error {
    if (this.#state === RELEASED) return new LeaseReleasedError(this.#owner.name);
    if (this.#state === CLOSED) return new PoolClosedError(this.#owner.name);
    return new LeakReclaimedError(this.#owner.name, this.#heldMs);
  }

  [Symbol.dispose](): void {
    if (this.#state === LENT) this.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#state === LENT) this.release();
  }
}

// Every checkout resolves a promise with a lease, and resolving looks the lease's `then` up: without
// one on Lease.prototype the lookup walks on to Object.prototype, a visible share of a checkout's
// instructions (bench/RESULTS.md). Undefined, so a lease is still not a thenable.
Object.defineProperty(Lease.prototype, 'then', { value: undefined });
