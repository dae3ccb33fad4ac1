import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { dialectSelected } from '../support/databases.js';
import { checkServiceEndToEnd } from '../support/service-end-to-end.js';

test('spillway serve on a SQLite file (the default setup): the file and its folder are created on first start', async (t) => {
  if (!dialectSelected('sqlite')) {
    t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'spillway-service-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await checkServiceEndToEnd(`sqlite:${join(dir, 'data', 'spillway.db')}`);
});
