import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketIndex, bucketUpperUs, LatencyBuckets } from '../../src/observe/latency-buckets.js';

/** Values around every power of two from 1 µs to 2^45 µs (about a year), where the bucket math changes. */
function edgeValues(): number[] {
  const values: number[] = [];
  for (let exponent = 0; exponent <= 45; exponent++) {
    const power = 2 ** exponent;
    for (const v of [power - 1, power, power + 1, power * 1.37, power * 1.999]) values.push(Math.floor(v));
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

describe('LatencyBuckets (log-linear microsecond buckets)', () => {
  it('puts every value in a bucket that holds it and is at most 1/128 of it wide', () => {
    let previous = -1;
    for (const us of edgeValues()) {
      const index = bucketIndex(us);
      assert.ok(index >= previous, `index of ${us} (${index}) below the index of a smaller value (${previous})`);
      previous = index;
      const upper = bucketUpperUs(index);
      const lower = index === 0 ? 0 : bucketUpperUs(index - 1) + 1;
      assert.ok(lower <= us && us <= upper, `${us} outside its bucket [${lower}, ${upper}]`);
      if (us < 256) assert.equal(upper, us);
      else assert.ok((upper - lower + 1) / us <= 1 / 128, `bucket of ${us} is ${upper - lower + 1} wide`);
    }
  });

  it('reports percentiles as bucket upper edges, with exact count, max and sum, across growth', () => {
    const buckets = new LatencyBuckets();
    for (let us = 1; us <= 1000; us++) buckets.record(us);
    buckets.record(3 * 2 ** 33); // a stall of about seven hours grows the counts
    assert.equal(buckets.count, 1001);
    assert.equal(buckets.maxUs, 3 * 2 ** 33);
    assert.equal(buckets.sumUs, 500_500 + 3 * 2 ** 33);
    assert.equal(buckets.valueAtPercentile(10), 100);
    const p50 = buckets.valueAtPercentile(50);
    assert.ok(p50 >= 501 && p50 <= 501 * (1 + 1 / 128), `p50 ${p50}`);
    assert.equal(buckets.valueAtPercentile(100), bucketUpperUs(bucketIndex(3 * 2 ** 33)));
    const merged = new LatencyBuckets();
    merged.add(buckets);
    merged.add(buckets);
    assert.equal(merged.count, 2002);
    assert.equal(merged.valueAtPercentile(50), p50);
  });
});
