import type { PoolClient, Submittable } from 'pg';
import { poolEndedError } from './pg-pool-errors.js';

/** The parts of a submittable the client drives: wrapped to know when its client is free again. */
interface SubmittableHooks {
  handleReadyForQuery?(...args: unknown[]): unknown;
  handleError?(error: unknown, ...args: unknown[]): unknown;
}

/** What `submitOnPool` needs from the pool. */
export interface SubmitHost {
  /** end() was called: the submittable gets pg-pool's error. */
  ended: boolean;
  checkout(): Promise<PoolClient>;
  log(message: string): void;
}

/**
 * `pool.query(submittable)`: the submittable (a pg.Query, a pg-cursor, a pg-query-stream) runs on a
 * checked-out client and is returned, as `client.query` returns it. Its client is released when the
 * client is done with it: at ready-for-query, however long a cursor stays open before, or at its
 * error, which the release carries, as pool.query's does. pg-pool 3.14 instead returns a promise that
 * never settles and never releases the client (its own test of this is disabled): here the facade
 * does what pg-pool meant rather than what it does. A failed checkout reaches `handleError`.
 */
export function submitOnPool<T extends Submittable>(submittable: T, values: unknown, callback: unknown, host: SubmitHost): T {
  const hooks = submittable as T & SubmittableHooks;
  const checkout = host.ended ? Promise.reject(poolEndedError()) : host.checkout();
  checkout.then(
    (client) => {
      const { handleReadyForQuery, handleError } = hooks;
      let finished = false;
      let failure: unknown;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        hooks.handleReadyForQuery = handleReadyForQuery;
        hooks.handleError = handleError;
        client.release(failure as Error | undefined);
      };
      hooks.handleReadyForQuery = function (this: unknown, ...args: unknown[]) {
        try {
          return handleReadyForQuery?.apply(this, args);
        } finally {
          finish();
        }
      };
      hooks.handleError = function (this: unknown, error: unknown, ...args: unknown[]) {
        failure ??= error;
        try {
          return handleError?.call(this, error, ...args);
        } finally {
          // pg forgets the submittable at its error (its ready-for-query goes to nobody): done now.
          finish();
        }
      };
      host.log('dispatching query');
      // client.query(submittable, values?, callback?) as pg-pool passes it; pg picks what applies.
      const run = client.query as unknown as (query: Submittable, values?: unknown, callback?: unknown) => void;
      try {
        run.call(client, submittable, values, callback);
      } catch (error) {
        failure ??= error;
        finish();
        hooks.handleError?.(error);
      }
    },
    (error: unknown) => {
      hooks.handleError?.(error);
    },
  );
  return submittable;
}
