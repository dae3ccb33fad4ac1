import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startServiceProcess } from '../support/cli-process.js';
import { dialectSelected } from '../support/databases.js';
import { json } from '../support/json.js';

/** One Prometheus sample's value for the service's pool (0 when absent). */
function sample(text: string, metric: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('cli: spillway status --reset resets a running service statistics with its token, and says what they were', async (t) => {
  if (!dialectSelected('sqlite')) return t.skip('sqlite not selected by SPILLWAY_TEST_DIALECTS');
  const dir = mkdtempSync(join(tmpdir(), 'spillway-reset-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = 'reset-token';
  const service = await startServiceProcess({ DATABASE_URL: `sqlite:${join(dir, 'reset.db')}`, SPILLWAY_TOKEN: token });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${service.url}/api/users/stats`)).status, 200);
    const auth = { authorization: `Bearer ${token}` };
    const checkoutsBefore = (await json(await fetch(`${service.url}/metrics/database/pool`, { headers: auth }))).stats.checkouts;
    assert.ok(checkoutsBefore >= 10);
    const operationsBefore = sample(await (await fetch(`${service.url}/metrics`)).text(), 'db_client_operation_duration_seconds_count');
    assert.ok(operationsBefore >= 10);

    // Without the token the service refuses, and the CLI says how to fix it.
    const refused = await runCli(['status', '--service', service.url, '--reset'], { SPILLWAY_TOKEN: '' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /metrics\/reset answered 401.*--token/);

    const reset = await runCli(['status', '--service', service.url, '--reset', '--token', token, '--json']);
    assert.equal(reset.code, 0, reset.stderr);
    const body = JSON.parse(reset.stdout);
    assert.ok(body.reset.pools[0].before.stats.checkouts >= checkoutsBefore);
    assert.match(body.health.status, /^(healthy|degraded)$/);
    // Only what ran since the reset is counted (the status command's own health check).
    const checkoutsAfter = (await json(await fetch(`${service.url}/metrics/database/pool`, { headers: auth }))).stats.checkouts;
    assert.ok(checkoutsAfter < checkoutsBefore, `${checkoutsAfter} < ${checkoutsBefore}`);
    // Prometheus counters are not reset.
    assert.ok(
      sample(await (await fetch(`${service.url}/metrics`)).text(), 'db_client_operation_duration_seconds_count') >= operationsBefore,
    );

    const table = await runCli(['status', '--service', service.url, '--reset'], { SPILLWAY_TOKEN: token });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /statistics reset \(Prometheus counters keep counting\)/);
    assert.match(table.stdout, /\d+ checkouts, \d+ timeouts, \d+ connections opened, \d+ statements, query p95/);

    const usage = await runCli(['status', '--url', 'sqlite::memory:', '--reset']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--reset resets a running service's statistics; give --service, not --url/);
  } finally {
    assert.equal(await service.stop(), 0, service.output());
  }
});
