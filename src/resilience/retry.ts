import { ConfigError } from '../errors.js';

/**
 * Opt-in retries of one call (`db.query`, `db.transaction`). Only failures that cannot have changed
 * the database are retried: see {@link RetryReason}.
 * @example await db.query(sql`SELECT ...`, { retry: { attempts: 3, backoffMs: 50, deadlineMs: 2000 } })
 */
export interface RetryOptions {
  /** Attempts in all, the first included (gRPC's maxAttempts): 3 means up to two retries. At least 1. */
  attempts: number;
  /** Backoff before the first retry; each retry doubles it (up to maxBackoffMs), then jitter draws within its upper half. */
  backoffMs: number;
  /** Cap of one backoff. Default 10 s. */
  maxBackoffMs?: number;
  /**
   * The caller's deadline for the whole call, retries and backoff included, from the call's start:
   * no retry starts that its backoff would push past it, and checkouts wait no longer than what is
   * left of it. Default: none (bounded by `attempts`).
   */
  deadlineMs?: number;
}

/**
 * Why a failure was retried, the `reason` label of `spillway_retries_total`:
 * - `not_sent`: nothing reached the server;
 * - `serialization`, `deadlock`, `lock_timeout`: the server rolled the transaction (or statement) back
 *   in a conflict with another one (SQLSTATE 40001, 40P01; MySQL 1213, 1205);
 * - `unknown`: the answer was lost, retried only because the call said `idempotent: true`.
 */
export type RetryReason = 'not_sent' | 'serialization' | 'deadlock' | 'lock_timeout' | 'unknown';

export const RETRY_REASONS: readonly RetryReason[] = ['not_sent', 'serialization', 'deadlock', 'lock_timeout', 'unknown'];

const DEFAULT_MAX_BACKOFF_MS = 10_000;

/** What one retried call needs besides the attempt itself. */
export interface RetryPolicy {
  /** The reason to retry this failure, or undefined to give up with it. */
  reasonFor(error: unknown): RetryReason | undefined;
  /** Called once per retry, before its backoff (the metric's counter). */
  onRetry?(reason: RetryReason): void;
  /** Stops retrying when aborted (the caller's own signal). */
  signal?: AbortSignal;
  now?(): number;
  random?(): number;
  sleep?(ms: number): Promise<void>;
}

/** Validate a call's retry options at the edge; CONFIG_INVALID names the field. */
export function checkRetryOptions(options: RetryOptions): void {
  if (!Number.isInteger(options.attempts) || options.attempts < 1) {
    throw new ConfigError('retry.attempts', `retry.attempts must be an integer of at least 1 (got ${String(options.attempts)})`);
  }
  for (const field of ['backoffMs', 'maxBackoffMs', 'deadlineMs'] as const) {
    const value = options[field];
    if (value === undefined && field !== 'backoffMs') continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(`retry.${field}`, `retry.${field} must be a number of milliseconds, 0 or more (got ${String(value)})`);
    }
  }
}

/**
 * The backoff before retry number `retry` (1-based): exponential, capped, and drawn in the upper half
 * of that ("equal jitter"), so that callers failed by one outage do not all come back at once while
 * each still waits at least half its step.
 */
export function backoffDelayMs(options: RetryOptions, retry: number, random: () => number = Math.random): number {
  const cap = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const step = Math.min(cap, options.backoffMs * 2 ** (retry - 1));
  return step / 2 + random() * (step / 2);
}

const sleepFor = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref?.();
  });

/**
 * Run `attempt` until it succeeds, a failure is not retryable, the attempts are spent or the deadline
 * would be passed; the last failure is thrown as it was. `attempt` gets what is left of the deadline
 * (undefined without one), to bound its checkout.
 */
export async function withRetry<T>(
  attempt: (remainingMs: number | undefined) => Promise<T>,
  options: RetryOptions,
  policy: RetryPolicy,
): Promise<T> {
  const now = policy.now ?? performance.now.bind(performance);
  const sleep = policy.sleep ?? sleepFor;
  const deadline = options.deadlineMs === undefined ? undefined : now() + options.deadlineMs;
  for (let tried = 1; ; tried++) {
    try {
      return await attempt(deadline === undefined ? undefined : Math.max(0, deadline - now()));
    } catch (error) {
      if (tried >= options.attempts || policy.signal?.aborted) throw error;
      const reason = policy.reasonFor(error);
      if (reason === undefined) throw error;
      const delayMs = backoffDelayMs(options, tried, policy.random);
      if (deadline !== undefined && now() + delayMs >= deadline) throw error;
      policy.onRetry?.(reason);
      await sleep(delayMs);
      if (policy.signal?.aborted) throw error;
    }
  }
}
