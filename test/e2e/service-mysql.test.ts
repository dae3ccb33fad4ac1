import { test } from 'node:test';
import { MYSQL_URL, requireServer } from '../support/databases.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { checkServiceEndToEnd } from '../support/service-end-to-end.js';

test('spillway serve on MariaDB: the same service, unchanged', async (t) => {
  if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
  const database = await createScratchDatabase(MYSQL_URL);
  t.after(() => database.drop());
  await checkServiceEndToEnd(database.url);
});
