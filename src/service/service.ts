import Fastify, { type FastifyInstance } from 'fastify';
import type { Database } from '../database.js';
import { spillwayPlugin } from '../http/fastify.js';
import { domainRoutes } from './domain-routes.js';
import { errorResponse } from './error-response.js';
import { answerMissesInOneShape } from './method-routing.js';
import { useStrictValidation } from './validation.js';

export interface ServiceOptions {
  db: Database;
  /** Bearer token for the detailed health and metrics endpoints (none by default). */
  token?: string;
  /** Fastify's logger: false (default), true, or pino options. */
  logger?: boolean | Record<string, unknown>;
  /** The whole request, headers and body, must arrive within this (default 30 000); else 408 and the connection closes. */
  requestTimeoutMs?: number;
  /** The request's headers must arrive within this (default 10 000, at most requestTimeoutMs); else 408. */
  headersTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/**
 * How often node:http looks for requests past their timeouts. Its default, 30 s, would let a slow
 * client hold a request up to 30 s past them; a sweep over the open connections once a second costs nothing.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** A service handle: the Fastify app and the readiness switch SIGTERM flips. */
export interface Service {
  app: FastifyInstance;
  /** Mark the service as draining: /ready answers 503 from now on. */
  drain(): void;
  readonly draining: boolean;
}

/**
 * Build the reference service around a pool: the contract's endpoints and the live dashboard
 * (spillway/fastify), the domain API and a readiness probe. Not listening yet; `startService` does that.
 */
export async function buildService(options: ServiceOptions): Promise<Service> {
  const { db } = options;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  // Without these a client that sends its headers or body slowly (or never) holds a request and a
  // socket indefinitely: Fastify turns node's request timeout off by default.
  const app = Fastify({
    logger: options.logger ?? false,
    requestTimeout,
    http: { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, headersTimeout) },
  });
  let draining = false;
  useStrictValidation(app);
  answerMissesInOneShape(app);

  app.setErrorHandler((error, request, reply) => {
    const response = errorResponse(error);
    // The client gets a generic message and a code; the driver's text and the stack go to the log.
    if (response.internal) request.log.error({ err: error }, 'request failed');
    return reply.code(response.status).send(response.body);
  });

  // Readiness for load balancers and orchestrators: 503 once SIGTERM starts the drain.
  app.get('/ready', async (_request, reply) => reply.code(draining ? 503 : 200).send({ status: draining ? 'draining' : 'ready' }));
  await app.register(domainRoutes(db));
  // The contract's endpoints and the dashboard come from spillway/fastify, as any app would mount them.
  await app.register(spillwayPlugin, {
    pool: db,
    service: 'spillway-reference-service',
    ...(options.token ? { token: options.token } : {}),
  });

  return {
    app,
    drain() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}
