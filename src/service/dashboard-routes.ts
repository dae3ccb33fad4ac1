import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/**
 * The live dashboard: one HTML page, its script and style (src/service/dashboard/, copied next to
 * the compiled code by the build), and uPlot served from node_modules, so nothing comes from a CDN.
 * Files are read once at start; the page polls the JSON endpoints itself.
 */
const ASSETS: Readonly<Record<string, { file: () => URL | string; type: string }>> = {
  'dashboard.js': { file: () => new URL('./dashboard/dashboard.js', import.meta.url), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { file: () => new URL('./dashboard/dashboard.css', import.meta.url), type: 'text/css; charset=utf-8' },
  'uplot.min.js': {
    file: () => createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'uplot.min.css': { file: () => createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function dashboardRoutes(): FastifyPluginAsync {
  const page = readFileSync(new URL('./dashboard/dashboard.html', import.meta.url), 'utf8');
  const assets = new Map(Object.entries(ASSETS).map(([name, asset]) => [name, { body: readFileSync(asset.file()), type: asset.type }]));
  return async (app: FastifyInstance) => {
    app.get('/dashboard', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page));
    app.get('/dashboard/assets/:name', async (request, reply) => {
      const asset = assets.get((request.params as { name: string }).name);
      if (asset === undefined) return reply.code(404).send({ error: 'no such asset' });
      return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
    });
  };
}
