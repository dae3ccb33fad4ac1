import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { describeConfig, resolveConfig, SpillwayError } from '../../src/index.js';

const url = 'postgres://app:hunter2@db.example:5432/app';

function code(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpillwayError);
    return { code: error.code, message: error.message };
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('observability options', () => {
  it('defaults to metrics and tracing on, no logger, documented thresholds', () => {
    const config = resolveConfig({ url, env: {} });
    assert.equal(config.metrics.enabled, true);
    assert.equal(config.tracing.enabled, true);
    assert.equal(config.logger, undefined);
    assert.equal(config.alerts.poolUsage, 0.8);
  });

  it('keeps a passed registry by reference and rejects bad values naming the option', () => {
    const registry = new Registry();
    assert.equal(resolveConfig({ url, env: {}, metrics: { registry } }).metrics.registry, registry);
    assert.match(code(() => resolveConfig({ url, env: {}, logger: { info() {} } as never })).message, /logger/);
    assert.match(code(() => resolveConfig({ url, env: {}, alerts: { poolUsage: 1.5 } })).message, /alerts\.poolUsage=1\.5/);
    assert.match(code(() => resolveConfig({ url, env: {}, alerts: { nope: 1 } as never })).message, /alerts\.nope/);
    assert.match(code(() => resolveConfig({ url, env: {}, metrics: { registry: {} as never } })).message, /metrics\.registry/);
  });

  it('describeConfig never shows a password: userinfo, query string, or driver options', () => {
    const shown = JSON.stringify(
      describeConfig(
        resolveConfig({
          url: 'postgres://app@db.example/app?password=s3cr3t&sslmode=require',
          env: {},
          dialectOptions: { ssl: { key: 'PRIVATE' } },
        }),
      ),
    );
    assert.doesNotMatch(shown, /s3cr3t|PRIVATE/);
    assert.match(shown, /"password":"\*\*\*"/);
    assert.doesNotMatch(JSON.stringify(describeConfig(resolveConfig({ url, env: {} }))), /hunter2/);
  });
});
