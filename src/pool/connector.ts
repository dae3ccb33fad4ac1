/**
 * The small surface the pool needs from a database, and nothing more: the pool core knows no SQL
 * and imports no driver. Each dialect provides one (SQLAlchemy's dialect surface, HikariCP's PoolBase).
 */
export interface Connector<C> {
  /** Short label for messages and logs, never containing a password (for example "postgres://app@db:5432/app"). */
  readonly target: string;
  /**
   * Open one connection. `onBroken` must be called if the connection later errors or ends on its own
   * (the server closed it, the network dropped): the pool then discards it instead of crashing.
   */
  connect(context: ConnectContext): Promise<C>;
  /** A cheap round trip proving the connection still works. Rejects when it does not. */
  ping(connection: C): Promise<void>;
  /** True when the connection holds state that `reset` must clear before reuse (an open transaction). */
  needsReset(connection: C): boolean;
  /** Clear per-borrower state (roll back an open transaction). Rejects when the connection is unusable. */
  reset(connection: C): Promise<void>;
  /** Close quietly; never rejects. */
  close(connection: C): Promise<void>;
  /** True when this error means the connection (and possibly the server) is gone, not a SQL error. */
  isDisconnect(error: unknown): boolean;
}

export interface ConnectContext {
  /** Milliseconds the connector may take; the pool also enforces it. */
  timeoutMs: number;
  /**
   * Aborted when the pool gives up on this attempt (timed out, replaced by a fresh attempt, pool
   * closed): the connector must cut its socket at once, so that an abandoned attempt never becomes a
   * server connection the pool does not count. The promise may then reject or never settle.
   */
  signal: AbortSignal;
  onBroken(error: unknown): void;
}
