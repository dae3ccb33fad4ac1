import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, memoryPool, resilienceFor, sleep } from '../support/pool-fixtures.js';

function refusal(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}
const isConnectivity = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';

/** A pool whose server refuses connections until `server.up`, with its breaker; counts connect attempts. */
function refusingPool(recoveryTimeoutMs: number) {
  const server = { up: false, attempts: 0 };
  const resilience = resilienceFor(
    { circuit: { failureThreshold: 2, recoveryTimeoutMs }, leakThresholdMs: 0, leakAction: 'warn' },
    isConnectivity,
  );
  const { pool, connector } = memoryPool(
    { size: 2, maxOverflow: 0, checkoutTimeoutMs: 500 },
    {
      connectDelayMs: 5, // so that two attempts at once would overlap and show in maxSockets
      failConnect: () => {
        server.attempts++;
        return server.up ? undefined : refusal();
      },
    },
    { gate: resilience.gate },
  );
  const { breaker } = resilience;
  const events: string[] = [];
  pool.on('circuit', ({ from, to }) => events.push(`${from}->${to}`));
  return { server, pool, connector, breaker, events };
}

async function openBreaker(pool: ReturnType<typeof refusingPool>['pool']): Promise<void> {
  for (let i = 0; i < 3; i++)
    await pool.acquire().then(
      (lease) => lease.release(),
      () => undefined,
    );
}

// The in-memory connector plays a server that refuses and then accepts; the real kill -9 and restart
// is in test/faults/postgres-kill-restart.test.ts.
test('while open, the pool probes the server itself: the breaker closes soon after the server is back, long before recoveryTimeoutMs', async () => {
  const { server, pool, connector, breaker, events } = refusingPool(30_000);
  await openBreaker(pool);
  assert.equal(breaker.state, 'open');
  const refused = await pool.acquire().then(
    (lease) => {
      lease.release();
      return 'served';
    },
    (error: { code?: string }) => error.code,
  );
  assert.equal(refused, 'CIRCUIT_OPEN', 'callers still fail at once');
  connector.maxSockets = 0;
  await sleep(500); // probes meet refusals meanwhile
  assert.ok(server.attempts > 3, 'refused probes keep a short interval (refusals cost the server nothing)');
  assert.ok(connector.maxSockets <= 1, `one probe at a time (saw ${connector.maxSockets} attempts at once)`);
  server.up = true;
  await eventually(() => breaker.state === 'closed', 5000, 'the breaker closing by a probe, well before the 30 s recovery timeout');
  assert.deepEqual(events.slice(-2), ['open->half-open', 'half-open->closed'], 'the probe was the half-open trial');
  const lease = await pool.acquire();
  lease.release();
  assert.equal(pool.stats().created, 1, 'the probe connection serves the next caller');
  await pool.close();
});

test('the probe stops when the pool closes', async () => {
  const { server, pool, breaker } = refusingPool(30_000);
  await openBreaker(pool);
  assert.equal(breaker.state, 'open');
  await pool.close();
  const attempts = server.attempts;
  await sleep(400);
  assert.equal(server.attempts, attempts, 'no connect attempt after close()');
});
