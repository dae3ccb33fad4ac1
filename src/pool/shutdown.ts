import { PoolClosedError } from '../errors.js';
import { EntryState } from './entry.js';
import type { PoolCore } from './pool-core.js';

/**
 * Close a pool: refuse every waiter (POOL_CLOSED), close idle connections and cut attempts still
 * connecting, wait up to `graceMs` for borrowed connections to come back, then close the rest and
 * wait until every socket is gone. The pool's timers are stopped by its caller first.
 */
export async function shutdown<C>(core: PoolCore<C>, graceMs: number): Promise<void> {
  for (const waiter of core.queue.drain()) {
    waiter.live = false;
    waiter.cleanup?.();
    waiter.reject(new PoolClosedError(core.name));
  }
  const { all, idle, counts } = core.entries;
  for (const entry of [...idle]) core.destroy(entry, 'closed');
  // Attempts still connecting are cut now: nobody will borrow them, and a stuck one would hold close()
  // for up to connectTimeoutMs.
  for (const entry of [...all]) if (entry.state === EntryState.Opening) entry.abandon?.();
  if (counts[EntryState.InUse] > 0 && graceMs > 0) {
    await new Promise<void>((resolve) => {
      // Referenced on purpose: the caller awaits close(), so its grace is work still to do.
      const timer = core.clock.setTimeout(resolve, graceMs, true);
      core.entries.drain.onDrained = () => {
        core.clock.clear(timer);
        resolve();
      };
    });
    core.entries.drain.onDrained = undefined;
  }
  for (const entry of [...all]) {
    if (entry.state === EntryState.InUse || entry.state === EntryState.Idle) core.destroy(entry, 'closed');
  }
  // Nothing should still be opening (abandoned above); the loop waits for it anyway, never forever.
  while (core.entries.closing.size > 0 || counts[EntryState.Opening] > 0) {
    if (core.entries.closing.size > 0) await Promise.all([...core.entries.closing]);
    else await new Promise<void>((resolve) => core.clock.setTimeout(resolve, 5, true));
  }
}
