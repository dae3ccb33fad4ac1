import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

// Imports the built package by name, as users do (package.json "exports"; npm test builds first).
describe('spillway/http and spillway/fastify entry points', () => {
  it('export createHandler and the Fastify plugin from dist', async () => {
    // Specifiers in variables: typecheck must not need dist/ (it may run before the build).
    const [httpName, fastifyName] = ['spillway/http', 'spillway/fastify'];
    const httpEntry = await import(httpName);
    const fastifyEntry = await import(fastifyName);
    assert.equal(typeof httpEntry.createHandler, 'function');
    assert.equal(typeof fastifyEntry.spillwayPlugin, 'function');
    assert.equal(fastifyEntry.default, fastifyEntry.spillwayPlugin);
    assert.deepEqual(Object.keys(httpEntry.ENDPOINT_PATHS).sort(), [
      '/health',
      '/health/database',
      '/health/detailed',
      '/health/pool',
      '/metrics',
      '/metrics/database/config',
      '/metrics/database/health',
      '/metrics/database/pool',
      '/metrics/performance/summary',
    ]);
  });
});
