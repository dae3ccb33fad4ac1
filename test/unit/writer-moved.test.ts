// A burst of read-only errors means the writer moved (spillway/mysql invalidates its pool then); a lone
// one does not. Time is stepped by hand: no sleeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMysqlDisconnect, isMysqlReadOnly } from '../../src/dialect/mysql/mysql-errors.js';
import { WRITER_MOVED_DEFAULTS, WriterMovedDetector } from '../../src/resilience/writer-moved.js';

function detector(threshold = 3, windowMs = 10_000): { burst: WriterMovedDetector; step(ms: number): void } {
  let now = 1_000;
  return { burst: new WriterMovedDetector({ threshold, windowMs, now: () => now }), step: (ms) => (now += ms) };
}

describe('writer-moved burst detection', () => {
  it('fires on the threshold-th read-only error within the window, then starts over', () => {
    const { burst, step } = detector();
    assert.equal(burst.record(), false);
    step(4_000);
    assert.equal(burst.record(), false);
    step(4_000);
    assert.equal(burst.record(), true, 'three within ten seconds');
    assert.equal(burst.record(), false, 'the count starts over after a burst');
    assert.equal(burst.record(), false);
    assert.equal(burst.record(), true);
  });

  it('does not fire on errors spread wider than the window', () => {
    const { burst, step } = detector();
    for (let i = 0; i < 10; i++) {
      assert.equal(burst.record(), false, `error ${i}`);
      step(5_001);
    }
  });

  it('forgets only the errors that left the window', () => {
    const { burst, step } = detector(3, 1_000);
    burst.record(); // t=0
    step(600);
    burst.record(); // t=600
    step(600); // t=1200: the first left the window
    assert.equal(burst.record(), false);
    step(100); // t=1300: 600, 1200, 1300 are within 1000
    assert.equal(burst.record(), true);
  });

  it('has defaults of three errors in ten seconds, and rejects nonsense settings', () => {
    assert.deepEqual({ ...WRITER_MOVED_DEFAULTS }, { threshold: 3, windowMs: 10_000 });
    assert.throws(() => new WriterMovedDetector({ threshold: 0, windowMs: 1, now: () => 0 }), RangeError);
    assert.throws(() => new WriterMovedDetector({ threshold: 2, windowMs: -1, now: () => 0 }), RangeError);
  });

  it("classifies mysql2's read-only errors (1290, 1792, 1836), and only those, as read-only; none is a disconnect", () => {
    for (const errno of [1290, 1792, 1836]) {
      const error = Object.assign(new Error('read-only'), { errno, code: 'ER_X', sqlState: 'HY000' });
      assert.equal(isMysqlReadOnly(error), true, String(errno));
      assert.equal(isMysqlDisconnect(error), false, String(errno));
    }
    for (const errno of [1062, 1064, 1213, 2013])
      assert.equal(isMysqlReadOnly(Object.assign(new Error('x'), { errno })), false, String(errno));
    assert.equal(isMysqlReadOnly(null), false);
    assert.equal(isMysqlReadOnly('1290'), false);
  });
});
