import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/** Serves /dashboard (built elsewhere); the handler passes the request through untouched. */
export type DashboardHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The live dashboard page, one self-contained HTML response: the page (./dashboard/, copied next to
 * the compiled code by the build), its script and style, and uPlot from node_modules, all inlined.
 * Nothing comes from a CDN, and one response works under any mount prefix: the page reads the JSON
 * endpoints by relative URL (`health/pool` next to `<prefix>/dashboard`), once a second.
 */
export function renderDashboardPage(): string {
  const local = (name: string) => readFileSync(new URL(`./dashboard/${name}`, import.meta.url), 'utf8');
  const fromPackage = (path: string) => readFileSync(createRequire(import.meta.url).resolve(path), 'utf8');
  // Inline scripts must not contain a closing script tag; uPlot's build has none, and this keeps it so.
  const script = (code: string) => code.replace(/<\/script/gi, '<\\/script');
  return local('dashboard.html')
    .replace('/*UPLOT_CSS*/', () => fromPackage('uplot/dist/uPlot.min.css'))
    .replace('/*DASHBOARD_CSS*/', () => local('dashboard.css'))
    .replace('/*UPLOT_JS*/', () => script(fromPackage('uplot/dist/uPlot.iife.min.js')))
    .replace('/*DASHBOARD_JS*/', () => script(local('dashboard.js')));
}

/**
 * A handler for `/dashboard`, to pass as the `dashboard` option of `createHandler` (spillway/http) or
 * the Fastify plugin (spillway/fastify). The page is built once, on the first request.
 *
 * @example http.createServer(createHandler({ pool: db, dashboard: createDashboardHandler() }))
 */
export function createDashboardHandler(): DashboardHandler {
  let page: Buffer | undefined;
  return (req, res) => {
    page ??= Buffer.from(renderDashboardPage());
    res.statusCode = 200;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    // The page runs only its own inline code, talks only to this origin, and is never framed (so a
    // hostile page cannot overlay it; X-Frame-Options for browsers that predate frame-ancestors).
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    );
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.end(req.method === 'HEAD' ? undefined : page);
  };
}
