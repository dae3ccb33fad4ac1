import { test } from 'node:test';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { checkServiceEndToEnd } from '../support/service-end-to-end.js';

test('spillway serve on PostgreSQL: schema, sample data, API, endpoints, status, load, SIGTERM', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const database = await createScratchDatabase(POSTGRES_URL);
  t.after(() => database.drop());
  await checkServiceEndToEnd(database.url);
});
