import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConfigError, resolveConfig } from '../../src/index.js';

const url = 'postgres://app@localhost:5432/app';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('config: multiplex', () => {
  it('is on by default, and takes true, false or { maxInFlight } (bound 100 unless given)', () => {
    assert.deepEqual(resolveConfig({ url, env: {} }).multiplex, { enabled: true, maxInFlight: 100 });
    assert.deepEqual(resolveConfig({ url, env: {}, multiplex: true }).multiplex, { enabled: true, maxInFlight: 100 });
    assert.equal(resolveConfig({ url, env: {}, multiplex: false }).multiplex.enabled, false);
    assert.deepEqual(resolveConfig({ url, env: {}, multiplex: { maxInFlight: 8 } }).multiplex, { enabled: true, maxInFlight: 8 });
  });

  it('reads DB_MULTIPLEX_MAX_IN_FLIGHT (a bound, true, or 0/false = off); the option wins', () => {
    assert.deepEqual(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: '16' } }).multiplex, { enabled: true, maxInFlight: 16 });
    assert.equal(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: '0' } }).multiplex.enabled, false);
    assert.equal(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: 'false' } }).multiplex.enabled, false);
    assert.deepEqual(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: 'true' } }).multiplex, { enabled: true, maxInFlight: 100 });
    assert.equal(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: 'false' }, multiplex: true }).multiplex.enabled, true);
    assert.equal(resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: '0' }, multiplex: true }).multiplex.enabled, true);
  });

  it('rejects bad values with CONFIG_INVALID naming the variable', () => {
    const fromEnv = configError(() => resolveConfig({ url, env: { DB_MULTIPLEX_MAX_IN_FLIGHT: 'lots' } }));
    assert.equal(fromEnv.code, 'CONFIG_INVALID');
    assert.equal(fromEnv.variable, 'DB_MULTIPLEX_MAX_IN_FLIGHT');
    assert.equal(configError(() => resolveConfig({ url, env: {}, multiplex: { maxInFlight: 0 } })).variable, 'multiplex.maxInFlight');
    assert.equal(configError(() => resolveConfig({ url, env: {}, multiplex: { max: 3 } as never })).variable, 'multiplex.max');
    assert.equal(configError(() => resolveConfig({ url, env: {}, multiplex: 'yes' as never })).variable, 'multiplex');
  });
});
