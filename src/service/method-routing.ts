import type { FastifyInstance } from 'fastify';

/** A registered path, as a pattern over concrete paths, and the methods it answers. */
interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/** `/api/users/:username` → /^\/api\/users\/[^/]+$/ (Fastify's parameters and wildcard). */
function pathPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/**
 * Fastify answers an unknown method on a known path with 404 and its own body. This answers every
 * miss in the service's one error shape: 405 with `Allow` when the path exists under other methods,
 * 404 otherwise. Call before any route is registered: it learns the routes from the onRoute hook.
 */
export function answerMissesInOneShape(app: FastifyInstance): void {
  const known = new Map<string, KnownPath>();
  app.addHook('onRoute', (route) => {
    let entry = known.get(route.url);
    if (entry === undefined) {
      entry = { pattern: pathPattern(route.url), methods: new Set() };
      known.set(route.url, entry);
    }
    for (const method of [route.method].flat()) entry.methods.add(method.toUpperCase());
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.raw.url ?? '/').split('?')[0] ?? '/';
    const allowed = new Set<string>();
    for (const entry of known.values()) if (entry.pattern.test(path)) for (const method of entry.methods) allowed.add(method);
    if (allowed.size > 0) {
      return reply
        .code(405)
        .header('allow', [...allowed].sort().join(', '))
        .send({ error: `method ${request.method} not allowed here`, code: 'METHOD_NOT_ALLOWED' });
    }
    return reply.code(404).send({ error: 'not found', code: 'NOT_FOUND' });
  });
}
