import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { ConfigError } from '../../src/errors.js';

const url = 'postgres://app:s3cret@db.example:5432/app';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('resolveConfig', () => {
  it('applies the contract defaults', () => {
    const config = resolveConfig({ url, env: {} });
    assert.equal(config.size, 10);
    assert.equal(config.maxOverflow, 10);
    assert.equal(config.checkoutTimeoutMs, 30_000);
    assert.equal(config.recycleMs, 1_800_000);
    assert.equal(config.idleTimeoutMs, 300_000);
    assert.equal(config.prePing, true);
    assert.equal(config.leakThresholdMs, 60_000);
    assert.equal(config.circuit.failureThreshold, 5);
    assert.equal(config.name, 'default');
    assert.ok(Object.isFrozen(config));
  });

  it('reads the environment in seconds and options win over it', () => {
    const env = { DATABASE_URL: url, DB_POOL_SIZE: '4', DB_MAX_OVERFLOW: '2', DB_POOL_TIMEOUT: '2.5', DB_POOL_PRE_PING: 'false' };
    const fromEnv = resolveConfig({ env });
    assert.equal(fromEnv.size, 4);
    assert.equal(fromEnv.checkoutTimeoutMs, 2500);
    assert.equal(fromEnv.prePing, false);
    const withOptions = resolveConfig({ env, size: 7, checkoutTimeoutMs: 100 });
    assert.equal(withOptions.size, 7);
    assert.equal(withOptions.checkoutTimeoutMs, 100);
  });

  it('names the variable, the value and what is accepted', () => {
    const error = configError(() => resolveConfig({ env: { DATABASE_URL: url, DB_POOL_SIZE: 'abc' } }));
    assert.equal(error.variable, 'DB_POOL_SIZE');
    assert.match(error.message, /DB_POOL_SIZE="abc"/);
    assert.match(error.message, /accepted/);
  });

  it('rejects negative sizes, unknown schemes, unknown options, overflow without size', () => {
    assert.equal(configError(() => resolveConfig({ url, size: -1, env: {} })).variable, 'size');
    assert.equal(configError(() => resolveConfig({ url: 'oracle://x/y', env: {} })).variable, 'url');
    assert.equal(configError(() => resolveConfig({ url, env: {}, ...({ sise: 3 } as object) })).variable, 'sise');
    assert.equal(configError(() => resolveConfig({ env: { DATABASE_URL: url, DB_MAX_OVERFLOW: '5' } })).variable, 'DB_MAX_OVERFLOW');
    assert.equal(configError(() => resolveConfig({ url, env: { DB_POOL_MIN_IDLE: '20' } })).variable, 'DB_POOL_MIN_IDLE');
    assert.equal(configError(() => resolveConfig({ env: {} })).variable, 'DATABASE_URL');
  });

  it('fails when the budget is smaller than the pods, and caps pools by budget', () => {
    assert.equal(
      configError(() => resolveConfig({ url, env: { POD_COUNT: '4', DB_MAX_CONNECTIONS_BUDGET: '3' } })).variable,
      'DB_MAX_CONNECTIONS_BUDGET',
    );
    const capped = resolveConfig({ url, env: { POD_COUNT: '4', DB_MAX_CONNECTIONS_BUDGET: '40' } });
    assert.ok(capped.size + capped.maxOverflow <= 10);
    configError(() => resolveConfig({ url, size: 10, maxOverflow: 10, podCount: 4, connectionBudget: 40, env: {} }));
  });

  it('refuses every bad value with CONFIG_INVALID naming it as written (no TypeError, no "null")', () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => resolveConfig({ url: 42 as never, env: {} }), 'url', /^url=42 is invalid; accepted: a connection URL string/],
      [() => resolveConfig({ url, size: Number.POSITIVE_INFINITY, env: {} }), 'size', /^size=Infinity is invalid/],
      [() => resolveConfig({ url, size: Number.NaN, env: {} }), 'size', /^size=NaN is invalid/],
      [
        () => resolveConfig({ url, env: { DB_POOL_TIMEOUT: '-1' } }),
        'DB_POOL_TIMEOUT',
        /^DB_POOL_TIMEOUT=-1 is invalid; accepted: seconds from 0 to/,
      ],
      [() => resolveConfig({ url, circuit: 5 as never, env: {} }), 'circuit', /^circuit=5 is invalid/],
      [
        () => resolveConfig({ url, multiplex: { maxInFlight: Number.POSITIVE_INFINITY }, env: {} }),
        'multiplex.maxInFlight',
        /^multiplex\.maxInFlight=Infinity is invalid/,
      ],
    ];
    for (const [fn, variable, message] of cases) {
      const error = configError(fn);
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
    }
  });

  it('caps pool sizes at 10,000 connections and durations at what a timer can wait (2^31 - 1 ms)', () => {
    assert.equal(resolveConfig({ url, size: 10_000, maxOverflow: 10_000, env: {} }).size, 10_000);
    assert.match(
      configError(() => resolveConfig({ url, size: 1e9, env: {} })).message,
      /^size=1000000000 is invalid; accepted: a whole number from 1 to 10000$/,
    );
    assert.equal(configError(() => resolveConfig({ url, size: 10, maxOverflow: 10_001, env: {} })).variable, 'maxOverflow');
    assert.equal(configError(() => resolveConfig({ url, env: { DB_POOL_SIZE: '20000' } })).variable, 'DB_POOL_SIZE');
    assert.equal(resolveConfig({ url, checkoutTimeoutMs: 2_147_483_647, env: {} }).checkoutTimeoutMs, 2_147_483_647);
    // A longer timer would fire at once (Node clamps it to 1 ms): every checkout would time out.
    assert.match(
      configError(() => resolveConfig({ url, checkoutTimeoutMs: 3e9, env: {} })).message,
      /^checkoutTimeoutMs=3000000000 is invalid; accepted: milliseconds from 0 to 2147483647$/,
    );
    assert.equal(configError(() => resolveConfig({ url, env: { DB_POOL_RECYCLE: '3000000' } })).variable, 'DB_POOL_RECYCLE');
  });

  it('never shows the password in an error message', () => {
    const error = configError(() => resolveConfig({ url: 'postgres://app:hunter2@db:99999/app', env: {} }));
    assert.doesNotMatch(error.message, /hunter2/);
    assert.match(error.message, /\*\*\*/);
  });

  it('recognises pgbouncer=true as a transaction-mode pooler', () => {
    assert.equal(resolveConfig({ url: `${url}?pgbouncer=true`, env: {} }).serverPooler, 'transaction');
    assert.equal(resolveConfig({ url, env: {} }).serverPooler, 'none');
  });
});
