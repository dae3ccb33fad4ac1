import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../support/manual-clock.js';
import { memoryPool, resilienceFor } from '../support/pool-fixtures.js';

function refusal(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}
const isConnectivity = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';

/** A pool whose server refuses connections until `server.up`, with its breaker; counts connect attempts. */
function refusingPool(recoveryTimeoutMs: number) {
  const server = { up: false, attempts: 0 };
  // The probe's delays run on a manual clock the tests step: nothing here sleeps on real time.
  const clock = new ManualClock();
  const resilience = resilienceFor(
    { circuit: { failureThreshold: 2, recoveryTimeoutMs }, leakThresholdMs: 0, leakAction: 'warn' },
    isConnectivity,
  );
  const { pool, connector } = memoryPool(
    { size: 2, maxOverflow: 0, checkoutTimeoutMs: 500 },
    {
      failConnect: () => {
        server.attempts++;
        return server.up ? undefined : refusal();
      },
    },
    { gate: resilience.gate, clock },
  );
  const { breaker } = resilience;
  const events: string[] = [];
  pool.on('circuit', ({ from, to }) => events.push(`${from}->${to}`));
  return { server, pool, connector, breaker, events, clock };
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
  const { server, pool, connector, breaker, events, clock } = refusingPool(30_000);
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
  await clock.advance(500); // probes meet refusals meanwhile
  assert.ok(server.attempts > 3, 'refused probes keep a short interval (refusals cost the server nothing)');
  assert.ok(connector.maxSockets <= 1, `one probe at a time (saw ${connector.maxSockets} attempts at once)`);
  server.up = true;
  await clock.advance(200); // the next probe (refusals keep its delay near 100 ms), far before the 30 s recovery timeout
  assert.equal(breaker.state, 'closed', 'closed by a probe');
  assert.deepEqual(events.slice(-2), ['open->half-open', 'half-open->closed'], 'the probe was the half-open trial');
  const lease = await pool.acquire();
  lease.release();
  assert.equal(pool.stats().created, 1, 'the probe connection serves the next caller');
  await pool.close();
});

test('the probe stops when the pool closes', async () => {
  const { server, pool, breaker, clock } = refusingPool(30_000);
  await openBreaker(pool);
  assert.equal(breaker.state, 'open');
  await pool.close();
  const attempts = server.attempts;
  await clock.advance(400);
  assert.equal(server.attempts, attempts, 'no connect attempt after close()');
});
