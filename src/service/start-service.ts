import { redactUrl, redactUrlsIn } from '../config/url.js';
import { createPool } from '../create-pool.js';
import type { Database } from '../database.js';
import { SpillwayError } from '../errors.js';
import { createSchema, seedSampleData } from './schema.js';
import { buildService, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, type Service } from './service.js';

/** Where the reference service keeps its data when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/spillway.db';

export interface StartServiceOptions {
  /** Environment to read (PORT, HOST, DATABASE_URL, DB_*, SHUTDOWN_*, REQUEST_TIMEOUT, HEADERS_TIMEOUT); defaults to process.env. */
  env?: Record<string, string | undefined>;
  url?: string;
  port?: number;
  host?: string;
  /** Load the sample data into an empty database (default true). */
  seed?: boolean;
  /** Milliseconds in-flight requests get to finish after SIGTERM (default SHUTDOWN_GRACE seconds, 10). */
  graceMs?: number;
  /**
   * Milliseconds between SIGTERM and closing the listener, while /ready already answers 503 and
   * requests are still served, so load balancers stop sending first (default SHUTDOWN_DELAY seconds, 0).
   */
  drainDelayMs?: number;
  /** Where progress lines go (default stdout). */
  log?: (line: string) => void;
  /** Fastify's logger (default off; LOG_LEVEL turns it on). */
  logger?: boolean | Record<string, unknown>;
}

export interface RunningService {
  /** http://host:port the service listens on. */
  url: string;
  db: Database;
  service: Service;
  /** Drain and stop: readiness 503, in-flight requests finish within the grace, then the pool closes. */
  stop(): Promise<void>;
}

/** The service could not start; the message is one line, safe to print (passwords as ***). */
export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

/**
 * Start the reference service: open the pool, create the schema with initDb (retried while the
 * database is unreachable, up to DB_POOL_INIT_TIMEOUT), load sample data on first start, listen.
 */
export async function startService(options: StartServiceOptions = {}): Promise<RunningService> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const url = options.url ?? (env.DATABASE_URL?.trim() ? env.DATABASE_URL : DEFAULT_DATABASE_URL);
  const port = options.port ?? parsePort(env.PORT);
  const host = options.host ?? (env.HOST?.trim() ? env.HOST : '127.0.0.1');
  const graceMs = options.graceMs ?? parseSeconds('SHUTDOWN_GRACE', env.SHUTDOWN_GRACE, 10_000);
  const drainDelayMs = options.drainDelayMs ?? parseSeconds('SHUTDOWN_DELAY', env.SHUTDOWN_DELAY, 0);
  const requestTimeoutMs = parsePositiveSeconds('REQUEST_TIMEOUT', env.REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT_MS);
  const headersTimeoutMs = parsePositiveSeconds('HEADERS_TIMEOUT', env.HEADERS_TIMEOUT, DEFAULT_HEADERS_TIMEOUT_MS);

  // CONFIG_INVALID (a malformed URL, a bad DB_* value) is thrown here, naming DATABASE_URL when it came from there.
  const db = createPool(options.url !== undefined ? { url, env } : { env: { ...env, DATABASE_URL: url } });
  const where = redactUrl(url);
  let seeded = false;
  try {
    await db.initDb(async (ready) => {
      await createSchema(ready);
      if (options.seed ?? true) seeded = await seedSampleData(ready);
    });
  } catch (error) {
    await db.close({ graceMs: 0 }).catch(() => undefined);
    const code = error instanceof SpillwayError ? ` (${error.code})` : '';
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ServiceStartError(`cannot prepare the database ${where}: ${redactUrlsIn(message ?? '')}${code}`, { cause: error });
  }

  const logger = options.logger ?? (env.LOG_LEVEL ? { level: env.LOG_LEVEL } : false);
  const service = await buildService({
    db,
    logger,
    requestTimeoutMs,
    headersTimeoutMs,
    ...(env.SPILLWAY_TOKEN ? { token: env.SPILLWAY_TOKEN } : {}),
  });
  let address: string;
  try {
    address = await service.app.listen({ port, host });
  } catch (error) {
    await db.close({ graceMs: 0 });
    throw new ServiceStartError(`cannot listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`);
  }
  log(
    `spillway serve: listening on ${address} (database ${where}${seeded ? ', sample data loaded' : ''}); dashboard at ${address}/dashboard`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      service.drain();
      if (drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, drainDelayMs));
      const deadline = Date.now() + graceMs;
      // Fastify stops accepting, answers 503 to new requests on open connections, and waits for the
      // in-flight ones; past the grace the remaining connections are cut.
      const force = setTimeout(() => service.app.server.closeAllConnections(), graceMs);
      await service.app.close();
      clearTimeout(force);
      await db.close({ graceMs: Math.max(0, deadline - Date.now()) });
      log('spillway serve: stopped');
    })();
    return stopping;
  };
  return { url: address, db, service, stop };
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 8000;
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new ServiceStartError(`PORT="${value}" is invalid; accepted: 0 to 65535`);
  return port;
}

function parseSeconds(name: string, value: string | undefined, fallbackMs: number): number {
  if (value === undefined || value.trim() === '') return fallbackMs;
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new ServiceStartError(`${name}="${value}" is invalid; accepted: seconds >= 0`);
  return Math.round(Number(value) * 1000);
}

/** A timeout in seconds that may not be 0: an HTTP timeout of 0 would mean none at all. */
function parsePositiveSeconds(name: string, value: string | undefined, fallbackMs: number): number {
  const ms = parseSeconds(name, value, fallbackMs);
  if (ms <= 0) throw new ServiceStartError(`${name}="${value}" is invalid; accepted: seconds > 0`);
  return ms;
}
