import { performance } from 'node:perf_hooks';
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { InitializationError, SpillwayError } from '../errors.js';

/** Codes that mean "the database is not reachable yet": worth another attempt at start-up. */
const RETRYABLE_CODES = new Set(['CIRCUIT_OPEN', 'POOL_TIMEOUT', 'CONNECT_TIMEOUT', 'CONNECTION_LOST', 'STATEMENT_TIMEOUT']);

export interface RetryOptions {
  /** Give up after this long (initializationTimeoutMs); 0 means one attempt. */
  timeoutMs: number;
  /** Safe label of the database, for the error message. */
  target: string;
  /** What is being attempted ("connecting", "initDb"), for the error message. */
  what: string;
  /** The dialect's judgement of a lost connection (driver errors not yet mapped). */
  isDisconnect(error: unknown): boolean;
  /** First delay and cap of the exponential backoff (decorrelated jitter). */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** True for failures that another attempt may cure: the server is down, refusing, or starting up. */
export function isRetryableAtStart(error: unknown, isDisconnect: (error: unknown) => boolean): boolean {
  if (error instanceof SpillwayError) return RETRYABLE_CODES.has(error.code);
  return isDisconnect(error);
}

/**
 * Run `attempt` until it succeeds, retrying connectivity failures with exponential backoff and
 * decorrelated jitter (cockatiel's) until `timeoutMs` has passed; then throw one InitializationError
 * (code CONNECT_TIMEOUT) carrying the last failure. Other errors (a wrong password, a SQL error in a
 * migration) are thrown at once: waiting would not cure them.
 */
export async function retryAtStart<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let backoff: IBackoff<unknown> = new ExponentialBackoff({
    initialDelay: options.initialDelayMs ?? 100,
    maxDelay: options.maxDelayMs ?? 5000,
  }).next();
  let lastFailure: unknown;
  for (let attempts = 1; ; attempts++) {
    try {
      return await withinDeadline(attempt(), deadline);
    } catch (error) {
      if (!isRetryableAtStart(error, options.isDisconnect)) throw error;
      // An attempt cut short by the deadline says less than the failure before it (ECONNREFUSED...).
      if (error !== STILL_RUNNING || lastFailure === undefined) lastFailure = error;
      backoff = backoff.next(undefined);
      const now = performance.now();
      if (now >= deadline) throw new InitializationError(options.target, options.what, options.timeoutMs, attempts, lastFailure);
      await sleep(Math.min(backoff.duration, deadline - now));
    }
  }
}

const STILL_RUNNING = new SpillwayError('CONNECT_TIMEOUT', 'attempt still running at initializationTimeoutMs');

/** An attempt still running at the deadline is abandoned with CONNECT_TIMEOUT (it cleans up after itself). */
function withinDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(STILL_RUNNING), remaining);
    timer.unref();
  });
  promise.catch(() => undefined);
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
