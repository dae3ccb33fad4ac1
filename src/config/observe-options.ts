import type { TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';

/** A pino-compatible logger: pino, or anything with these four methods taking (object, message). */
export interface Logger {
  debug(object: Record<string, unknown>, message?: string): void;
  info(object: Record<string, unknown>, message?: string): void;
  warn(object: Record<string, unknown>, message?: string): void;
  error(object: Record<string, unknown>, message?: string): void;
}

/** Thresholds of the health status and the built-in alerts. */
export interface AlertThresholds {
  /** Sliding window for percentiles and failure rates. */
  windowMs: number;
  /** The same alert type fires again only after this long. */
  cooldownMs: number;
  /** Consecutive failed health checks that make the database unhealthy. */
  unhealthyAfterFailures: number;
  /** Fraction of failed statements in the window that raises a critical alert (0..1). */
  queryFailureRate: number;
  /** Statements needed in the window before the failure rate is judged. */
  minQueries: number;
  /** Fraction of max connections in use that counts as high usage (0..1). */
  poolUsage: number;
  /** p95 statement time above this is slow. */
  slowQueryMs: number;
  /** p95 checkout wait above this is slow. */
  slowCheckoutMs: number;
}

export const DEFAULT_ALERT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  windowMs: 60_000,
  cooldownMs: 300_000,
  unhealthyAfterFailures: 2,
  queryFailureRate: 0.05,
  minQueries: 20,
  poolUsage: 0.8,
  slowQueryMs: 1000,
  slowCheckoutMs: 1000,
});

/** Observability options as `createPool` accepts them. */
export interface ObserveOptions {
  /** A pino-compatible logger: lifecycle at debug, leaks and alerts at warn. Default: no logging. */
  logger?: Logger;
  /** Prometheus metrics via prom-client: true (default: prom-client's default registry), false, or `{ registry }`. */
  metrics?: boolean | { registry?: Registry };
  /** OpenTelemetry spans via @opentelemetry/api (no-op unless the app registers an SDK): true (default), false, or `{ tracerProvider }`. */
  tracing?: boolean | { tracerProvider?: TracerProvider };
  /** Health and alert thresholds (see AlertThresholds). */
  alerts?: Partial<AlertThresholds>;
}

/**
 * The resolved observability settings. The logger, registry and tracer provider are the caller's own
 * objects: they are kept by reference and not frozen (freezing a live registry would break it).
 */
export interface ResolvedObserveOptions {
  readonly logger: Logger | undefined;
  readonly metrics: Readonly<{ enabled: boolean; registry: Registry | undefined }>;
  readonly tracing: Readonly<{ enabled: boolean; tracerProvider: TracerProvider | undefined }>;
  readonly alerts: Readonly<AlertThresholds>;
}

export const OBSERVE_OPTION_NAMES = ['logger', 'metrics', 'tracing', 'alerts'] as const;

const FRACTIONS = new Set<keyof AlertThresholds>(['queryFailureRate', 'poolUsage']);

/** Validate the observability options; throws CONFIG_INVALID naming the option. */
export function resolveObserveOptions(options: ObserveOptions): ResolvedObserveOptions {
  const { logger, metrics = true, tracing = true, alerts = {} } = options;
  if (logger !== undefined) {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      if (typeof (logger as unknown as Record<string, unknown>)?.[level] !== 'function') {
        throw new ConfigError('logger', `logger must be pino-compatible (debug, info, warn, error methods); ${level} is missing`);
      }
    }
  }
  if (typeof metrics !== 'boolean' && (metrics === null || typeof metrics !== 'object')) {
    throw new ConfigError('metrics', 'metrics must be true, false or { registry } (a prom-client Registry)');
  }
  const registry = typeof metrics === 'object' ? metrics.registry : undefined;
  if (registry !== undefined && typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function') {
    throw new ConfigError('metrics.registry', 'metrics.registry must be a prom-client Registry');
  }
  if (typeof tracing !== 'boolean' && (tracing === null || typeof tracing !== 'object')) {
    throw new ConfigError('tracing', 'tracing must be true, false or { tracerProvider } (an OpenTelemetry TracerProvider)');
  }
  const tracerProvider = typeof tracing === 'object' ? tracing.tracerProvider : undefined;
  if (tracerProvider !== undefined && typeof (tracerProvider as { getTracer?: unknown }).getTracer !== 'function') {
    throw new ConfigError('tracing.tracerProvider', 'tracing.tracerProvider must be an OpenTelemetry TracerProvider');
  }
  if (alerts === null || typeof alerts !== 'object') throw new ConfigError('alerts', 'alerts must be an object of thresholds');
  const thresholds: AlertThresholds = { ...DEFAULT_ALERT_THRESHOLDS };
  for (const [key, value] of Object.entries(alerts)) {
    if (!(key in DEFAULT_ALERT_THRESHOLDS)) {
      throw new ConfigError(
        `alerts.${key}`,
        `Unknown option "alerts.${key}"; accepted: ${Object.keys(DEFAULT_ALERT_THRESHOLDS).join(', ')}`,
      );
    }
    const name = key as keyof AlertThresholds;
    const max = FRACTIONS.has(name) ? 1 : Number.POSITIVE_INFINITY;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      throw new ConfigError(
        `alerts.${key}`,
        `alerts.${key}=${String(value)} is invalid; accepted: ${max === 1 ? 'a fraction from 0 to 1' : 'a number >= 0'}`,
      );
    }
    thresholds[name] = value;
  }
  if (thresholds.windowMs < 1000)
    throw new ConfigError('alerts.windowMs', `alerts.windowMs=${thresholds.windowMs} is invalid; accepted: >= 1000`);
  return Object.freeze({
    logger,
    metrics: Object.freeze({ enabled: metrics !== false, registry }),
    tracing: Object.freeze({ enabled: tracing !== false, tracerProvider }),
    alerts: Object.freeze(thresholds),
  });
}
