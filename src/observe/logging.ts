import type { Logger } from '../config/observe-options.js';
import { redactUrlsIn } from '../config/url.js';
import type { ConnectionPool } from '../pool/pool.js';

function describeError(error: unknown): Record<string, unknown> | undefined {
  if (error === undefined || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return {
    message: redactUrlsIn(error instanceof Error ? error.message : String(error)),
    ...(typeof code === 'string' ? { code } : {}),
  };
}

/**
 * Log the pool's life to a pino-compatible logger: lifecycle at debug, checkout timeouts at info,
 * leaks and alerts at warn, connection errors at warn (the pool survives them). Every line carries the
 * pool name; errors are reduced to code and redacted message, so no password can reach a log.
 * Returns a function that unsubscribes.
 */
export function attachLogger(pool: ConnectionPool<unknown>, logger: Logger): () => void {
  const poolName = pool.name;
  const listeners = {
    connect: (e: { connectionId: number; durationMs: number }) =>
      logger.debug({ pool: poolName, connectionId: e.connectionId, durationMs: Math.round(e.durationMs) }, 'connection opened'),
    close: (e: { connectionId: number; reason: string }) =>
      logger.debug({ pool: poolName, connectionId: e.connectionId, reason: e.reason }, 'connection closed'),
    recycle: (e: { connectionId: number; ageMs: number }) =>
      logger.debug({ pool: poolName, connectionId: e.connectionId, ageMs: Math.round(e.ageMs) }, 'connection recycled'),
    invalidate: (e: { connectionId: number | undefined; reason: string; error?: unknown }) =>
      logger.debug(
        { pool: poolName, connectionId: e.connectionId, reason: e.reason, error: describeError(e.error) },
        'connection invalidated',
      ),
    timeout: (e: { waitMs: number; waiting: number }) =>
      logger.info({ pool: poolName, waitMs: Math.round(e.waitMs), waiting: e.waiting }, 'checkout timed out'),
    leak: (e: { connectionId: number; heldMs: number; stack: string | undefined }) =>
      logger.warn(
        { pool: poolName, connectionId: e.connectionId, heldMs: Math.round(e.heldMs), stack: e.stack },
        'connection leak suspected',
      ),
    alert: (e: { type: string; severity: string; message: string }) =>
      logger.warn({ pool: poolName, alert: e.type, severity: e.severity }, `alert: ${e.message}`),
    circuit: (e: { from: string; to: string }) => logger.warn({ pool: poolName, from: e.from, to: e.to }, `circuit breaker ${e.to}`),
    error: (error: unknown) => logger.warn({ pool: poolName, error: describeError(error) }, 'connection error'),
  };
  // The listeners are typed above; the plain EventEmitter methods take them by name.
  const emitter = pool as unknown as NodeJS.EventEmitter;
  for (const [event, fn] of Object.entries(listeners)) emitter.on(event, fn as (...args: unknown[]) => void);
  return () => {
    for (const [event, fn] of Object.entries(listeners)) emitter.off(event, fn as (...args: unknown[]) => void);
  };
}
