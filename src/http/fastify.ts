/**
 * `spillway/fastify`: the health and metrics endpoints as a Fastify plugin, with the same options as
 * `createHandler`. Fastify's own `prefix` register option mounts it.
 *
 * @example await app.register(spillwayPlugin, { pool: db, prefix: '/db', token: process.env.METRICS_TOKEN })
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../database.js';
import { createDashboardHandler } from './dashboard.js';
import {
  ENDPOINT_PATHS,
  type EndpointOptions,
  type EndpointResponse,
  Endpoints,
  endpointOptions,
  errorResponse,
  RESET_PATH,
} from './endpoints.js';
import type { DashboardHandler } from './handler.js';

export interface SpillwayFastifyOptions extends EndpointOptions {
  /** Handler for `/dashboard`, given the raw node request and response; default: Spillway's live dashboard. */
  dashboard?: DashboardHandler;
}

/**
 * The plugin. It is encapsulated (not fastify-plugin wrapped), so register's `prefix` applies to its routes.
 * Its options may be the database itself (`app.register(spillwayPlugin, db)`); anything else that is
 * not a database or options naming one fails the registration (CONFIG_INVALID), never a request.
 */
export const spillwayPlugin: FastifyPluginAsync<SpillwayFastifyOptions | Database> = async (app: FastifyInstance, given) => {
  const options = endpointOptions(given);
  const endpoints = new Endpoints(options);
  const send = (reply: FastifyReply, response: EndpointResponse) => {
    reply.code(response.status).header('content-type', response.contentType).header('cache-control', 'no-store');
    if (response.status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.send(response.body);
  };
  const queryOf = (request: FastifyRequest) => new URLSearchParams(request.raw.url?.split('?')[1] ?? '');
  for (const path of Object.keys(ENDPOINT_PATHS)) {
    app.get(path, async (request, reply) => send(reply, await endpoints.handle(path, queryOf(request), request.headers.authorization)));
  }
  app.post(RESET_PATH, async (request, reply) => send(reply, endpoints.reset(queryOf(request), request.headers.authorization)));
  app.get(RESET_PATH, async (_request, reply) =>
    send(reply.header('allow', 'POST'), errorResponse(405, 'method GET not allowed here', 'METHOD_NOT_ALLOWED')),
  );
  // The contract serves /dashboard always; an app may pass its own page instead.
  const dashboard = options.dashboard ?? createDashboardHandler();
  app.get('/dashboard', async (request, reply) => {
    reply.hijack();
    await dashboard(request.raw, reply.raw);
  });
};

export default spillwayPlugin;
