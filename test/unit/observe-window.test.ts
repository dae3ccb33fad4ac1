import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyWindow } from '../../src/observe/window.js';

describe('LatencyWindow (HdrHistogram over a sliding window)', () => {
  it('reports percentiles within 1% of the exact values, and failures', () => {
    const window = new LatencyWindow();
    for (let i = 1; i <= 10_000; i++) window.record(i / 100, i % 50 === 0);
    const summary = window.summary();
    assert.equal(summary.count, 10_000);
    assert.ok(Math.abs(summary.p50 - 50) / 50 < 0.01, `p50 ${summary.p50}`);
    assert.ok(Math.abs(summary.p95 - 95) / 95 < 0.01, `p95 ${summary.p95}`);
    assert.ok(Math.abs(summary.p99 - 99) / 99 < 0.01, `p99 ${summary.p99}`);
    assert.ok(summary.p99 <= summary.max);
    assert.equal(window.failures, 200);
  });

  it('forgets values once they slide out of the window', () => {
    const window = new LatencyWindow();
    window.record(500);
    window.fail();
    for (let i = 0; i < LatencyWindow.SLICES - 1; i++) {
      window.rotate();
      window.record(1);
    }
    assert.equal(window.summary().count, LatencyWindow.SLICES);
    assert.equal(window.summary().max, 500);
    window.rotate(); // the slice holding 500 ms and the failure is cleared
    assert.equal(window.summary().count, LatencyWindow.SLICES - 1);
    assert.equal(window.summary().max, 1);
    assert.equal(window.failures, 0);
  });

  it('summarises an empty window as zeros', () => {
    assert.deepEqual(new LatencyWindow().summary(), { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  });
});
