/** Every entry is in exactly one state; the pool derives its counts from these. */
export enum EntryState {
  Opening = 0,
  Idle = 1,
  InUse = 2,
  Closing = 3,
}

/**
 * The long-lived slot of one physical connection (SQLAlchemy's ConnectionRecord): age, uses,
 * recycle deadline. Borrowers never see it; they get a short-lived {@link Lease}.
 *
 * Times start as numbers, not undefined: a field V8 first sees undefined in holds every later time
 * as a pointer to a heap number (a GC write barrier on each checkin); one first holding a number
 * keeps it in place.
 */
export class PoolEntry<C> {
  readonly id: number;
  state: EntryState = EntryState.Opening;
  connection: C | undefined = undefined;
  /** Monotonic ms (performance.now()). */
  createdAt = 0;
  /** When it was last returned or validated: the start of its pre-ping bypass window. */
  lastUsedAt = 0;
  /** Last time a round trip proved it alive (connect, ping). */
  validatedAt = 0;
  /** Recycle at this monotonic time (Infinity when recycling is off). */
  expiresAt = 0;
  uses = 0;
  /** Set when the connection reported an error while lent: discard it on release. */
  broken = false;
  /** When the current lease began. */
  checkedOutAt = 0;
  /**
   * The unformatted call site captured at checkout by leak detection, if sampled. A field rather than
   * a WeakMap beside the pool: it is written on every checkout, and a field store is the cheapest.
   */
  borrowTrace: { stack?: string } | undefined = undefined;
  /** While opening: give up this connect attempt now (its socket is cut, its slot freed at once). */
  abandon: (() => void) | undefined = undefined;
  /** The current lease, so that a leak can be reclaimed. */
  lease: { revoke(heldMs: number, poolClosed?: boolean): void } | undefined = undefined;
  /** Lent to the multiplexer (acquire({ shared: true })): its statements report checkouts, the lease does not. */
  carrier = false;

  constructor(id: number, now: number, expiresAt: number) {
    this.id = id;
    this.createdAt = now;
    this.lastUsedAt = now;
    this.validatedAt = now;
    this.expiresAt = expiresAt;
  }
}
