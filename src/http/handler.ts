import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database } from '../database.js';
import { createDashboardHandler, type DashboardHandler } from './dashboard.js';

export type { DashboardHandler } from './dashboard.js';

import { type EndpointOptions, type EndpointResponse, Endpoints, endpointOptions, errorResponse, RESET_PATH } from './endpoints.js';

export interface HandlerOptions extends EndpointOptions {
  /** Handler for `<prefix>/dashboard`; default: Spillway's live dashboard (createDashboardHandler). */
  dashboard?: DashboardHandler;
}

/** A `node:http` request listener that is also Express middleware: unknown paths go to `next()` (or 404). */
export type SpillwayHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** '/db/' → '/db'; '' and '/' → ''. */
export function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined) return '';
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function write(res: ServerResponse, response: EndpointResponse, head: boolean): void {
  res.statusCode = response.status;
  res.setHeader('content-type', response.contentType);
  res.setHeader('cache-control', 'no-store');
  if (response.status === 401) res.setHeader('www-authenticate', 'Bearer');
  res.end(head ? undefined : response.body);
}

/**
 * The health and metrics endpoints as a `node:http` listener, usable as Express middleware.
 *
 * Takes the database itself or options; anything else throws CONFIG_INVALID here, at creation.
 *
 * @example http.createServer(createHandler(db)).listen(8000)
 * @example app.use(createHandler({ pool: db, prefix: '/db', token: process.env.METRICS_TOKEN }))
 */
export function createHandler(given: HandlerOptions | Database): SpillwayHandler {
  const options = endpointOptions(given);
  const endpoints = new Endpoints(options);
  const prefix = normalizePrefix(options.prefix);
  const dashboard = options.dashboard ?? createDashboardHandler();
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = url.pathname;
    if (prefix !== '') path = path === prefix || path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : '\0';
    if (path.length > 1) path = path.replace(/\/+$/, '');
    const isDashboard = path === '/dashboard';
    const method = req.method ?? 'GET';
    if (path === RESET_PATH) {
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        write(res, errorResponse(405, `method ${method} not allowed here`, 'METHOD_NOT_ALLOWED'), false);
      } else write(res, endpoints.reset(url.searchParams, req.headers.authorization), false);
      return;
    }
    if (!isDashboard && !endpoints.has(path)) {
      if (next !== undefined) next();
      else write(res, errorResponse(404, 'not found', 'NOT_FOUND'), false);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      write(res, errorResponse(405, `method ${method} not allowed here`, 'METHOD_NOT_ALLOWED'), false);
      return;
    }
    const fail = (error: unknown): void => {
      if (next !== undefined) next(error);
      else if (!res.headersSent) write(res, errorResponse(500, 'internal error', 'INTERNAL_ERROR'), false);
      else res.destroy();
    };
    if (isDashboard) {
      Promise.resolve()
        .then(() => dashboard(req, res))
        .catch(fail);
      return;
    }
    endpoints.handle(path, url.searchParams, req.headers.authorization).then((response) => write(res, response, method === 'HEAD'), fail);
  };
}
