import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionLostError, PoolTimeoutError } from '../../src/errors.js';
import { backoffDelayMs, checkRetryOptions, withRetry } from '../../src/resilience/retry.js';

// The retry loop on a stepped clock: no real sleeping, so the deadline and the backoff are exact.
function steppedClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const notSent = () => new PoolTimeoutError('p', { size: 1, maxOverflow: 0, checkedOut: 1, checkedIn: 0, overflow: 0, waiting: 1 }, 10);

test('retries a not-sent failure until it succeeds, counting each retry', async () => {
  const clock = steppedClock();
  const reasons: string[] = [];
  let calls = 0;
  const value = await withRetry(
    async () => {
      if (++calls < 3) throw notSent();
      return 'ok';
    },
    { attempts: 5, backoffMs: 10 },
    { reasonFor: () => 'not_sent', onRetry: (r) => reasons.push(r), ...clock },
  );
  assert.equal(value, 'ok');
  assert.equal(calls, 3);
  assert.deepEqual(reasons, ['not_sent', 'not_sent']);
});

test('a failure without a reason is thrown at once, as it was', async () => {
  const lost = new ConnectionLostError('gone');
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw lost;
      },
      { attempts: 5, backoffMs: 10 },
      { reasonFor: () => undefined, ...steppedClock() },
    ),
    (error) => error === lost,
  );
  assert.equal(calls, 1);
});

test('gives up with the last failure when the attempts are spent', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls++;
        throw notSent();
      },
      { attempts: 3, backoffMs: 1 },
      { reasonFor: () => 'not_sent', ...steppedClock() },
    ),
    { code: 'POOL_TIMEOUT' },
  );
  assert.equal(calls, 3);
});

test('never sleeps past the deadline, and tells each attempt what is left of it', async () => {
  const clock = steppedClock();
  const left: (number | undefined)[] = [];
  await assert.rejects(
    withRetry(
      async (remainingMs) => {
        left.push(remainingMs);
        clock.advance(300); // each attempt takes 300 ms
        throw notSent();
      },
      { attempts: 100, backoffMs: 100, maxBackoffMs: 100, deadlineMs: 1000 },
      { reasonFor: () => 'not_sent', random: () => 1, ...clock },
    ),
    { code: 'POOL_TIMEOUT' },
  );
  // Three attempts fit (300 ms each, 100 ms backoff between); no backoff began that would end past 1000 ms.
  assert.deepEqual(left, [1000, 600, 200]);
  assert.equal(clock.now(), 1100, 'no sleep after the last attempt');
});

test('backoff doubles, is capped, and its jitter stays in the upper half of the step', () => {
  const options = { attempts: 10, backoffMs: 100, maxBackoffMs: 500 };
  assert.equal(
    backoffDelayMs(options, 1, () => 0),
    50,
  );
  assert.equal(
    backoffDelayMs(options, 1, () => 1),
    100,
  );
  assert.equal(
    backoffDelayMs(options, 2, () => 1),
    200,
  );
  assert.equal(
    backoffDelayMs(options, 5, () => 1),
    500,
  );
  assert.equal(
    backoffDelayMs(options, 5, () => 0),
    250,
  );
});

test('bad retry options fail CONFIG_INVALID naming the field', () => {
  assert.throws(() => checkRetryOptions({ attempts: 0, backoffMs: 10 }), { code: 'CONFIG_INVALID', variable: 'retry.attempts' });
  assert.throws(() => checkRetryOptions({ attempts: 2, backoffMs: -1 }), { code: 'CONFIG_INVALID', variable: 'retry.backoffMs' });
  assert.throws(() => checkRetryOptions({ attempts: 2, backoffMs: 1, deadlineMs: Number.NaN }), {
    code: 'CONFIG_INVALID',
    variable: 'retry.deadlineMs',
  });
});
