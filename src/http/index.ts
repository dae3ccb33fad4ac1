/**
 * `spillway/http`: the health and metrics endpoints as a framework-free `node:http` listener
 * (also Express middleware). See shared/CONTRACT.md for the paths and README for an example.
 */

export { createDashboardHandler } from './dashboard.js';
export { ENDPOINT_PATHS, type EndpointOptions, type EndpointResponse, Endpoints, poolView } from './endpoints.js';
export { createHandler, type DashboardHandler, type HandlerOptions, normalizePrefix, type SpillwayHandler } from './handler.js';
