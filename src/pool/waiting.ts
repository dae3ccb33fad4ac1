import { AcquireAbortedError, PoolTimeoutError } from '../errors.js';
import { TICK_MS } from './clock.js';
import type { Lease } from './lease.js';
import { InternalCheckout, type PoolCore } from './pool-core.js';
import type { AcquireOptions } from './pool-settings.js';
import type { PoolStatus } from './status.js';
import { Waiter } from './waiter-queue.js';

/**
 * Queue a caller for a connection, with its deadline and abort signal. `precise`: `now` is the
 * precise clock (someone reads the wait); otherwise it is the coarse clock, and the deadline is pushed
 * one tick later so a timeout never fires early.
 */
export function enqueue<C>(
  core: PoolCore<C>,
  options: AcquireOptions | undefined,
  now: number,
  context: unknown,
  precise: boolean,
): Promise<Lease<C>> {
  const timeoutMs = options?.timeoutMs ?? core.settings.checkoutTimeoutMs;
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(new AcquireAbortedError(core.name, signal.reason));
  const deadline = timeoutMs > 0 ? Math.ceil(now + timeoutMs + (precise ? 0 : TICK_MS)) : Number.POSITIVE_INFINITY;
  const waiter = new Waiter<Lease<C>>(deadline, Math.floor(now));
  waiter.context = context;
  const promise = new Promise<Lease<C>>((resolve, reject) => {
    waiter.resolve = resolve;
    waiter.reject = reject;
  });
  if (signal !== undefined) watchAbort(core, waiter, signal);
  core.queue.push(waiter);
  return promise;
}

function watchAbort<C>(core: PoolCore<C>, waiter: Waiter<Lease<C>>, signal: AbortSignal): void {
  const onAbort = (): void => {
    if (!waiter.live) return;
    if (waiter.validating) waiter.live = false;
    else core.queue.remove(waiter);
    core.stats.aborts++;
    waiter.reject(new AcquireAbortedError(core.name, signal.reason));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
}

/** A waiter's deadline passed: POOL_TIMEOUT with the pool's status and the last connect failure as cause. */
export function timeOut<C>(core: PoolCore<C>, waiter: Waiter<Lease<C>>, now: number, status: PoolStatus, lastConnectError: unknown): void {
  waiter.cleanup?.();
  core.stats.timeouts++;
  const waitMs = now - waiter.enqueuedAt;
  core.emit(
    'timeout',
    waiter.context instanceof InternalCheckout ? { waitMs, waiting: status.waiting, internal: true } : { waitMs, waiting: status.waiting },
  );
  waiter.reject(new PoolTimeoutError(core.name, status, Math.round(waitMs), lastConnectError));
}
