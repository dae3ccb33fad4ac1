import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpillwayError } from '../../src/errors.js';
import type { CircuitState } from '../../src/pool/events.js';
import { CircuitBreaker } from '../../src/resilience/circuit-breaker.js';
import { ManualClock } from '../support/manual-clock.js';
import { memoryPool, resilienceFor } from '../support/pool-fixtures.js';

/** A breaker on a hand-driven clock, recording its transitions. */
function breakerAt(failureThreshold = 3, recoveryTimeoutMs = 1000) {
  const clock = { now: 0 };
  const changes: string[] = [];
  const breaker = new CircuitBreaker(
    'test',
    { failureThreshold, recoveryTimeoutMs },
    (from: CircuitState, to: CircuitState) => changes.push(`${from}->${to}`),
    () => clock.now,
  );
  return { breaker, clock, changes };
}

function refusal(): Error {
  return Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as SpillwayError).code;
  }
  return undefined;
}

test('consecutive failures open the breaker; calls then fail at once with CIRCUIT_OPEN', () => {
  const { breaker, clock, changes } = breakerAt(3);
  for (let i = 0; i < 2; i++) {
    clock.now += 10;
    breaker.failure(refusal(), clock.now);
  }
  assert.equal(breaker.state, 'closed');
  assert.equal(
    codeOf(() => breaker.admit()),
    undefined,
  );
  clock.now += 10;
  breaker.failure(refusal(), clock.now);
  assert.equal(breaker.state, 'open');
  assert.equal(
    codeOf(() => breaker.admit()),
    'CIRCUIT_OPEN',
  );
  assert.deepEqual(changes, ['closed->open']);
  assert.match(breaker.snapshot().lastFailure ?? '', /ECONNREFUSED/);
});

test('a success in between resets the count', () => {
  const { breaker, clock } = breakerAt(3);
  for (let i = 0; i < 10; i++) {
    clock.now += 10;
    breaker.failure(refusal(), clock.now);
    clock.now += 10;
    if (i % 2 === 1) breaker.success(clock.now);
  }
  assert.equal(breaker.state, 'closed');
});

test('failures of attempts begun before the last counted failure are echoes of one fault', () => {
  const { breaker, clock } = breakerAt(3);
  const startedAt = clock.now;
  clock.now = 100;
  // Twenty in-flight statements broken by one reset: one failure, not twenty.
  for (let i = 0; i < 20; i++) breaker.failure(refusal(), startedAt);
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.snapshot().failures, 1);
});

test('after recoveryTimeoutMs one trial goes through (half-open); its success closes, its failure reopens', () => {
  const { breaker, clock, changes } = breakerAt(1, 1000);
  breaker.failure(refusal(), clock.now);
  assert.equal(breaker.state, 'open');
  clock.now += 999;
  assert.equal(
    codeOf(() => breaker.admit()),
    'CIRCUIT_OPEN',
  );
  clock.now += 1;
  assert.equal(
    codeOf(() => breaker.admit()),
    undefined,
    'the trial is admitted',
  );
  assert.equal(breaker.state, 'half-open');
  assert.equal(
    codeOf(() => breaker.admit()),
    'CIRCUIT_OPEN',
    'only one trial at a time',
  );
  clock.now += 5;
  breaker.failure(refusal(), clock.now);
  assert.equal(breaker.state, 'open');
  clock.now += 1000;
  breaker.admit();
  clock.now += 5;
  breaker.success(clock.now - 2);
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->open', 'open->half-open', 'half-open->closed']);
});

test('a trial that never reports does not wedge the breaker half-open', () => {
  const { breaker, clock } = breakerAt(1, 1000);
  breaker.failure(refusal(), clock.now);
  clock.now += 1000;
  breaker.admit();
  clock.now += 500;
  assert.equal(
    codeOf(() => breaker.admit()),
    'CIRCUIT_OPEN',
  );
  clock.now += 500;
  assert.equal(
    codeOf(() => breaker.admit()),
    undefined,
  );
});

test('on a pool: connect refusals open it, the pool emits circuit events, SQL errors never count', async () => {
  let refuse = true;
  const isConnectivity = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';
  const resilience = resilienceFor(
    { circuit: { failureThreshold: 2, recoveryTimeoutMs: 50 }, leakThresholdMs: 0, leakAction: 'warn' },
    isConnectivity,
  );
  const clock = new ManualClock();
  const { pool } = memoryPool(
    { size: 2, maxOverflow: 0, checkoutTimeoutMs: 200 },
    { failConnect: () => (refuse ? refusal() : undefined) },
    { gate: resilience.gate, clock },
  );
  const { breaker } = resilience;
  const events: string[] = [];
  pool.on('circuit', ({ from, to }) => events.push(`${from}->${to}`));
  const syntaxError = Object.assign(new Error('syntax error'), { code: '42601' });
  for (let i = 0; i < 5; i++) pool.gate?.statementResult?.(syntaxError, performance.now());
  assert.equal(breaker.state, 'closed', 'SQL errors are not connectivity failures');

  const codes: string[] = [];
  for (let i = 0; i < 4; i++) {
    await pool.acquire().then(
      (lease) => lease.release(),
      (error) => codes.push((error as { code: string }).code),
    );
  }
  assert.deepEqual(codes, ['ECONNREFUSED', 'ECONNREFUSED', 'CIRCUIT_OPEN', 'CIRCUIT_OPEN']);
  assert.deepEqual(events, ['closed->open']);

  refuse = false;
  await clock.advance(60);
  // The trial: a caller's, or the pool's own probe if it came first (see circuit-breaker-probe.test.ts);
  // either goes open -> half-open -> closed.
  const lease = await pool.acquire();
  lease.release();
  assert.equal(breaker.state, 'closed');
  assert.equal(events[0], 'closed->open');
  assert.ok(
    ['half-open->closed', 'open->closed'].includes(events.at(-1) ?? ''),
    `closed again by a trial or the probe (${events.join(', ')})`,
  );
  await pool.close();
});
