import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { exerciseDomainApi } from '../support/service-api.js';
import { startServiceProcess } from '../support/cli-process.js';

test('spillway serve on PostgreSQL: schema, sample data, domain API and dashboard over real HTTP; SIGTERM exits cleanly', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const database = await createScratchDatabase(POSTGRES_URL);
  const service = await startServiceProcess({ DATABASE_URL: database.url, DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2' }).catch(async (error) => {
    await database.drop();
    throw error;
  });
  t.after(async () => {
    await service.stop();
    await database.drop();
  });
  assert.match(service.output(), /sample data loaded/);

  await exerciseDomainApi(service.url);

  assert.equal(await service.stop(), 0);
  assert.match(service.output(), /SIGTERM, draining[\s\S]*stopped/);
});
