import { ConnectionLostError } from '../errors.js';
import type { ConnectionOpener } from './connection-opener.js';
import { EntryState, type PoolEntry } from './entry.js';
import type { PoolCore } from './pool-core.js';
import type { CloseReason } from './status.js';

/**
 * The care of physical connections once open (HikariCP's PoolBase: is it dead, close it quietly):
 * closing, discarding after an error, the driver's error reports, retiring and reclaiming, and
 * keeping minIdle open. Who borrows what stays in the pool.
 */
export class ConnectionCare<C> {
  readonly #core: PoolCore<C>;
  readonly #opener: ConnectionOpener<C>;

  constructor(core: PoolCore<C>, opener: ConnectionOpener<C>) {
    this.#core = core;
    this.#opener = opener;
  }

  /** A connection back with an error (discarded) or with state to clear (reset, then returned). */
  checkinDirty(entry: PoolEntry<C>, error: unknown): void {
    if (error !== undefined || entry.broken) {
      this.discard(entry, 'invalidated', error ?? new ConnectionLostError('connection reported an error while lent'));
      return;
    }
    this.#core.connector.reset(entry.connection as C).then(
      () => this.#core.giveBack(entry, this.#core.clock.now()),
      (resetError) => this.discard(entry, 'invalidated', resetError),
    );
  }

  /** Discard a lent entry after an error; a disconnect marks the whole pool suspect. */
  discard(entry: PoolEntry<C>, reason: CloseReason, error: unknown): void {
    const core = this.#core;
    core.stats.invalidated++;
    core.emit('invalidate', { connectionId: entry.id, reason: String(reason), error });
    if (error !== undefined && core.connector.isDisconnect(error)) core.invalidateAll('disconnect', error);
    this.destroy(entry, reason);
    core.dispatch();
  }

  /** Close an entry's connection; it keeps its slot until the socket is gone (see closingHoldsSlot). */
  destroy(entry: PoolEntry<C>, reason: CloseReason): void {
    if (entry.state === EntryState.Closing) return;
    const core = this.#core;
    const { entries } = core;
    if (entry.state === EntryState.Idle) {
      const index = entries.idle.indexOf(entry);
      if (index >= 0) entries.idle.splice(index, 1);
    }
    entry.lease?.revoke(0, reason === 'closed');
    entry.lease = undefined;
    entries.setState(entry, EntryState.Closing);
    core.stats.closed++;
    core.stats.closedByReason[reason]++;
    core.emit('close', { connectionId: entry.id, reason });
    const done = core.connector
      .close(entry.connection as C)
      .catch(() => undefined)
      .then(() => {
        entries.forget(entry);
        entries.closing.delete(done);
        if (entries.count(EntryState.InUse) === 0) entries.drain.onDrained?.();
        if (!core.closing()) {
          core.dispatch();
          if (reason !== 'idle' && reason !== 'overflow') this.topUp();
        }
      });
    entries.closing.add(done);
  }

  /** Keep `minIdle` connections open. */
  topUp(): void {
    const core = this.#core;
    if (core.closing()) return;
    const { entries } = core;
    const have = entries.count(EntryState.Idle) + entries.count(EntryState.InUse) + entries.count(EntryState.Opening);
    for (let i = have; i < core.settings.minIdle && entries.slotsTaken() < core.max; i++) {
      // Failures are recorded in lastConnectError and retried by the next housekeeping pass.
      this.#opener.open(true).catch(() => undefined);
    }
  }

  /** The driver reported an error on a connection: never crash; discard it now or on release. */
  broken(entry: PoolEntry<C>, error: unknown): void {
    const core = this.#core;
    if (core.listenerCount('error') > 0) core.emit('error', error);
    if (core.connector.isDisconnect(error)) core.invalidateAll('disconnect', error);
    if (entry.state === EntryState.Idle) {
      core.stats.invalidated++;
      core.emit('invalidate', { connectionId: entry.id, reason: 'error', error });
      this.destroy(entry, 'error');
    } else if (entry.state === EntryState.InUse) {
      entry.broken = true;
    }
  }

  /** Entries currently lent, for leak detection. */
  *lentEntries(): IterableIterator<PoolEntry<C>> {
    for (const entry of this.#core.entries.all) if (entry.state === EntryState.InUse && entry.lease !== undefined) yield entry;
  }

  /** Count a leak (the leak detector reports it). */
  recordLeak(): void {
    this.#core.stats.leaks++;
  }

  /**
   * Take a leaked connection back: its lease is revoked (the holder's next use fails LEAK_RECLAIMED)
   * and the connection is discarded, since its state is unknown.
   */
  reclaim(entry: PoolEntry<C>, heldMs: number): void {
    if (entry.state !== EntryState.InUse || entry.lease === undefined) return;
    entry.lease.revoke(heldMs);
    entry.lease = undefined;
    this.discard(entry, 'invalidated', undefined);
  }

  /**
   * Close this connection: at once when idle; when lent, a 'recycled' one at its return, while an
   * 'idle' one stays (it is no longer idle). For a pool that times each connection itself (the pg.Pool
   * facade's per-client idle and lifetime timers, its maxUses). False when nothing was done.
   */
  retire(connection: C, reason: 'idle' | 'recycled'): boolean {
    const core = this.#core;
    for (const entry of core.entries.all) {
      if (entry.connection !== connection) continue;
      if (entry.state === EntryState.InUse) {
        if (reason === 'idle') return false;
        entry.expiresAt = Number.NEGATIVE_INFINITY; // worn out at its return
        return true;
      }
      if (entry.state !== EntryState.Idle) return false;
      if (reason === 'recycled') {
        core.stats.recycled++;
        core.emit('recycle', { connectionId: entry.id, ageMs: core.clock.now() - entry.createdAt });
      }
      this.destroy(entry, reason);
      return true;
    }
    return false;
  }
}
