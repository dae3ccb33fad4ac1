import {
  type Attributes,
  ProxyTracerProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { ResolvedConfig } from '../config/options.js';
import type { Dialect } from '../dialect/dialect.js';

/** OpenTelemetry `db.system` values (semantic conventions) for our dialects. */
const DB_SYSTEM: Readonly<Record<string, string>> = { postgres: 'postgresql', mysql: 'mysql', sqlite: 'sqlite' };

const TRACER_NAME = 'spillway';
/** What the API's global proxy delegates to while no SDK is registered (a singleton). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
/** Statement attributes are cached per operation keyword; arbitrary first words cannot grow it past this. */
const OPERATION_CACHE_LIMIT = 64;
const RECHECK_EVERY = 64;

/**
 * Whether the global tracer provider has an SDK behind it. Without one, even the API's no-op spans cost
 * a few microseconds per statement (span objects, context lookups), so we skip them altogether; the check
 * is repeated per call because an app may register its SDK after creating the pool.
 */
function globalSdkRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

/**
 * Spans for checkouts and statements through @opentelemetry/api: no-op unless the app registers an SDK
 * (or passes a tracer provider). Attributes follow the database semantic conventions; the statement's
 * parameter values are never recorded, nor is its text (it may carry literals).
 */
export class StatementTracer {
  readonly #tracer: Tracer;
  readonly #base: Attributes;
  readonly #checkoutName: string;
  readonly #global: boolean;
  #sdk = false;
  #untilRecheck = 0;
  readonly #byOperation = new Map<string, { name: string; attributes: Attributes }>();

  constructor(config: ResolvedConfig, dialect: Dialect, provider: TracerProvider | undefined) {
    this.#global = provider === undefined;
    // The global API tracer follows later SDK registration by itself (its proxy delegates lazily).
    this.#tracer = (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
    const server = dialect.server;
    this.#base = {
      'db.system': DB_SYSTEM[dialect.name] ?? dialect.name,
      ...(server.database === undefined ? {} : { 'db.namespace': server.database }),
      'server.address': server.address,
      ...(server.port === undefined ? {} : { 'server.port': server.port }),
      'db.client.connection.pool.name': config.name,
    };
    this.#checkoutName = `checkout ${config.name}`;
  }

  /**
   * False while spans would go nowhere (global API, no SDK): callers then skip tracing entirely. The
   * global lookup is repeated every RECHECK_EVERY calls rather than on each, which is soon enough to
   * notice an SDK registered later.
   */
  get active(): boolean {
    if (!this.#global) return true;
    if (--this.#untilRecheck <= 0) {
      this.#untilRecheck = RECHECK_EVERY;
      this.#sdk = globalSdkRegistered();
    }
    return this.#sdk;
  }

  /** A checkout span; `pool` names a pool other than the primary (SQLite's `<name>:writer`). */
  startCheckout(pool?: string): Span {
    if (pool === undefined || pool === this.#base['db.client.connection.pool.name']) {
      return this.#tracer.startSpan(this.#checkoutName, { kind: SpanKind.CLIENT, attributes: this.#base });
    }
    return this.#tracer.startSpan(`checkout ${pool}`, {
      kind: SpanKind.CLIENT,
      attributes: { ...this.#base, 'db.client.connection.pool.name': pool },
    });
  }

  startStatement(text: string): Span {
    const operation = operationName(text) ?? '';
    let shape = this.#byOperation.get(operation);
    if (shape === undefined) {
      const namespace = this.#base['db.namespace'];
      shape = {
        name: operation === '' ? String(this.#base['db.system']) : namespace === undefined ? operation : `${operation} ${namespace}`,
        attributes: operation === '' ? this.#base : { ...this.#base, 'db.operation.name': operation },
      };
      if (this.#byOperation.size < OPERATION_CACHE_LIMIT) this.#byOperation.set(operation, shape);
    }
    return this.#tracer.startSpan(shape.name, { kind: SpanKind.CLIENT, attributes: shape.attributes });
  }

  /** End a span, recording a failure as the span's status and `error.type` (the error code, never its values). */
  static end(span: Span, error: unknown): void {
    if (error !== undefined) {
      const code = (error as { code?: unknown } | null)?.code;
      span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : undefined });
    }
    span.end();
  }
}

/** The statement's first keyword, upper-cased (SELECT, INSERT, ...), or undefined. */
export function operationName(text: string): string | undefined {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match?.[1]?.toUpperCase();
}
