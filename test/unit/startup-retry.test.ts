import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionLostError, InitializationError } from '../../src/errors.js';
import { retryAtStart } from '../../src/resilience/startup.js';

const options = { target: 'memory://test', what: 'connecting', isDisconnect: () => false, initialDelayMs: 5, maxDelayMs: 20 };

test('retries connectivity failures with backoff until the attempt succeeds', async () => {
  let attempts = 0;
  const result = await retryAtStart(
    async () => {
      if (++attempts < 4) throw new ConnectionLostError('refused');
      return 'up';
    },
    { ...options, timeoutMs: 5000 },
  );
  assert.equal(result, 'up');
  assert.equal(attempts, 4);
});

test('gives up after the initialization timeout with one CONNECT_TIMEOUT error carrying the last failure', async () => {
  let attempts = 0;
  const last = new ConnectionLostError('connect ECONNREFUSED');
  const error = await retryAtStart(
    async () => {
      attempts++;
      throw last;
    },
    { ...options, timeoutMs: 100 },
  ).catch((e: unknown) => e);
  assert.ok(error instanceof InitializationError);
  assert.equal(error.code, 'CONNECT_TIMEOUT');
  assert.equal(error.cause, last);
  assert.equal(error.attempts, attempts);
  assert.ok(attempts > 1);
  assert.match(error.message, /initializationTimeoutMs/);
});

test('errors another attempt cannot cure (a SQL error, a bad password) are thrown at once', async () => {
  let attempts = 0;
  const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
  await assert.rejects(
    retryAtStart(
      async () => {
        attempts++;
        throw syntax;
      },
      { ...options, timeoutMs: 5000 },
    ),
    (e) => e === syntax,
  );
  assert.equal(attempts, 1);
});
