import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Alert, AlertManager } from '../../src/observe/alerts.js';

describe('AlertManager', () => {
  it('fires a condition once while it holds, resolves it, and respects the per-type cooldown', () => {
    let now = 1_000_000;
    const fired: Alert[] = [];
    const alerts = new AlertManager(
      60_000,
      (a) => fired.push(a),
      () => now,
    );
    alerts.condition('pool_usage_high', true, 'usage 90%');
    alerts.condition('pool_usage_high', true, 'usage 95%');
    assert.equal(fired.length, 1);
    assert.equal(fired[0]?.severity, 'warning');
    assert.equal(alerts.active()[0]?.message, 'usage 95%');

    alerts.condition('pool_usage_high', false, '');
    assert.deepEqual(alerts.active(), []);
    now += 10_000;
    alerts.condition('pool_usage_high', true, 'usage 91%'); // active again, but inside the cooldown: no new alert
    assert.equal(fired.length, 1);
    assert.equal(alerts.active().length, 1);

    alerts.condition('circuit_open', true, 'open'); // another type has its own cooldown
    assert.equal(fired.length, 2);
    assert.equal(fired[1]?.severity, 'critical');

    now += 60_000;
    alerts.condition('pool_usage_high', false, '');
    alerts.condition('pool_usage_high', true, 'usage 99%');
    assert.equal(fired.length, 3);
    assert.equal(alerts.counts().pool_usage_high, 2);
    assert.equal(alerts.counts().circuit_open, 1);
    assert.equal(alerts.counts().slow_queries, 0);
    assert.deepEqual(
      alerts.recent().map((a) => a.message),
      ['usage 99%', 'open', 'usage 90%'],
    );
  });

  it('fires one-off events (leaks) without keeping them active', () => {
    let now = 0;
    const fired: Alert[] = [];
    const alerts = new AlertManager(
      1000,
      (a) => fired.push(a),
      () => now,
    );
    alerts.event('connection_leak', 'held 70s');
    alerts.event('connection_leak', 'held 71s');
    now = 1000;
    alerts.event('connection_leak', 'held 72s');
    assert.deepEqual(
      fired.map((a) => a.message),
      ['held 70s', 'held 72s'],
    );
    assert.deepEqual(alerts.active(), []);
  });
});
