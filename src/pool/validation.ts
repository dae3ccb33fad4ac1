import type { PoolEntry } from './entry.js';
import type { PoolCore } from './pool-core.js';

/**
 * Ping an entry reserved for the head waiter (pre-ping, or after a disconnect elsewhere made it
 * suspect); on failure discard it and try the next, same deadline. The waiter is off the queue while
 * its connection is pinged, so this keeps its checkout deadline with a timer of its own: a ping into a
 * dead network is bounded only by connectTimeoutMs, and must not hold the caller past its deadline.
 */
export function validateFor<C>(core: PoolCore<C>, entry: PoolEntry<C>): void {
  const waiter = core.queue.shift();
  if (waiter === undefined) {
    core.giveBack(entry, core.clock.now());
    return;
  }
  waiter.validating = true;
  const deadlineTimer = Number.isFinite(waiter.deadline)
    ? core.clock.setTimeout(
        () => {
          if (!waiter.live) return;
          waiter.live = false;
          core.timeOut(waiter, core.clock.now());
        },
        Math.max(0, waiter.deadline - core.clock.now()),
      )
    : undefined;
  core.connector.ping(entry.connection as C).then(
    () => {
      core.clock.clear(deadlineTimer);
      waiter.validating = false;
      const now = core.clock.now();
      entry.validatedAt = now;
      entry.lastUsedAt = now;
      if (waiter.live) core.settle(waiter, entry, now);
      else core.giveBack(entry, now);
    },
    (error) => {
      core.clock.clear(deadlineTimer);
      waiter.validating = false;
      core.stats.pingFailures++;
      core.discard(entry, 'invalidated', error);
      core.queue.unshift(waiter);
      core.dispatch();
    },
  );
}
