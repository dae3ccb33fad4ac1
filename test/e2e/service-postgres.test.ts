import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, startServiceProcess } from '../support/cli-process.js';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { exerciseDomainApi } from '../support/service-api.js';

test('spillway serve on PostgreSQL: schema, sample data, domain API and dashboard over real HTTP; SIGTERM exits cleanly', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const database = await createScratchDatabase(POSTGRES_URL);
  const service = await startServiceProcess({ DATABASE_URL: database.url, DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' }).catch(
    async (error) => {
      await database.drop();
      throw error;
    },
  );
  t.after(async () => {
    await service.stop();
    await database.drop();
  });
  assert.match(service.output(), /sample data loaded/);

  await exerciseDomainApi(service.url);

  // The CLI against the running service, as an operator would use it.
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

  assert.equal(await service.stop(), 0);
  assert.match(service.output(), /SIGTERM, draining[\s\S]*stopped/);
});
