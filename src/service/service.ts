import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Database } from '../database.js';
import { SpillwayError } from '../errors.js';
import { spillwayPlugin } from '../http/fastify.js';
import { domainRoutes } from './domain-routes.js';

export interface ServiceOptions {
  db: Database;
  /** Bearer token for the detailed health and metrics endpoints (none by default). */
  token?: string;
  /** Fastify's logger: false (default), true, or pino options. */
  logger?: boolean | Record<string, unknown>;
}

/** HTTP status for Spillway's errors: the pool or database is unavailable (503), or too slow (504). */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  POOL_TIMEOUT: 503,
  POOL_CLOSED: 503,
  CIRCUIT_OPEN: 503,
  CONNECT_TIMEOUT: 503,
  CONNECTION_LOST: 503,
  ACQUIRE_ABORTED: 503,
  STATEMENT_TIMEOUT: 504,
  LOCK_TIMEOUT: 504,
  BATCH_INVALID: 400,
};

/** Constraint violations by each driver's code: a client mistake, not a server fault. */
function constraintStatus(error: { code?: unknown }): number | undefined {
  if (error.code === '23505' || error.code === 'ER_DUP_ENTRY' || error.code === 'SQLITE_CONSTRAINT_UNIQUE') return 409;
  if (error.code === '23503' || error.code === 'ER_NO_REFERENCED_ROW_2' || error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 422;
  return undefined;
}

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
  const app = Fastify({ logger: options.logger ?? false });
  let draining = false;

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) return reply.code(400).send({ error: error.message });
    const status =
      error instanceof SpillwayError
        ? (STATUS_BY_CODE[error.code] ?? 500)
        : (constraintStatus(error) ?? (error.statusCode && error.statusCode < 500 ? error.statusCode : 500));
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const code = error instanceof SpillwayError ? error.code : undefined;
    // Database messages are safe to show (no password is ever in them); stacks stay in the log.
    return reply.code(status).send({ error: error.message, ...(code === undefined ? {} : { code }) });
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
