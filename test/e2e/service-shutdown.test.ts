import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { startInProcessService } from '../support/in-process-service.js';

test('SIGTERM sequence: readiness turns 503, the in-flight request still finishes, then the pool closes', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const running = await startInProcessService(t, POSTGRES_URL, {
    DB_POOL_SIZE: '1',
    DB_MAX_OVERFLOW: '0',
    DB_POOL_TIMEOUT: '30',
    DB_HEALTH_CHECK_INTERVAL: '0',
    SHUTDOWN_DELAY: '3', // readiness is 503 for this long before the listener closes
    SHUTDOWN_GRACE: '20',
  });
  // Hold the only connection so the next request is in flight (waiting for it) when the drain starts.
  const held = await running.db.acquire();
  const inFlight = fetch(`${running.url}/api/users/alice_smith`);
  while (running.db.status().waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));

  const stopping = running.stop();
  const ready = await fetch(`${running.url}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(await ready.json(), { status: 'draining' });
  assert.equal(running.db.status().closed, false, 'the pool stays open while requests drain');

  held.release();
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { username: string }).username, 'alice_smith');

  await stopping;
  assert.equal(running.db.status().closed, true);
  assert.equal(running.db.status().total, 0);
  await assert.rejects(fetch(`${running.url}/health`), 'the listener is closed');
});
