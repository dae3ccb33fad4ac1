import assert from 'node:assert/strict';
import { runCli, startServiceProcess } from './cli-process.js';
import { exerciseDomainApi } from './service-api.js';

/**
 * The reference service on `databaseUrl`, as a user runs it: `spillway serve` in its own process,
 * the domain API and endpoints over real HTTP, `spillway status` and `spillway load` against it,
 * then SIGTERM and a clean exit. The same for every dialect.
 */
export async function checkServiceEndToEnd(databaseUrl: string): Promise<void> {
  const service = await startServiceProcess({ DATABASE_URL: databaseUrl, DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' });
  try {
    assert.match(service.output(), /sample data loaded/);
    await exerciseDomainApi(service.url);

    const status = await runCli(['status', '--service', service.url, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const snapshot = JSON.parse(status.stdout);
    assert.equal(snapshot.pool.size, 4);
    assert.match(snapshot.health.status, /^(healthy|degraded)$/); // degraded when this busy machine makes queries slow
    const table = await runCli(['status', '--service', service.url]);
    assert.match(table.stdout, /^maxOverflow\s+2$/m);

    const load = await runCli(['load', '--service', service.url, '--concurrency', '4', '--duration', '1', '--json']);
    assert.equal(load.code, 0, load.stderr);
    const summary = JSON.parse(load.stdout);
    assert.ok(summary.requests > 0);
    assert.equal(summary.errors, 0, JSON.stringify(summary.errorsByKind));
    assert.ok(summary.latencyMs.p50 <= summary.latencyMs.p99);
    assert.ok(summary.routes.length >= 4);
  } finally {
    const code = await service.stop();
    assert.equal(code, 0, service.output());
  }
  assert.match(service.output(), /SIGTERM, draining[\s\S]*stopped/);
}
