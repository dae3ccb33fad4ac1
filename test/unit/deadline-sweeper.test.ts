import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineSweeper, withDeadline } from '../../src/resilience/deadline-sweeper.js';

test('the sweeper expires what is past its deadline, once, and nothing that finished', () => {
  const sweeper = new DeadlineSweeper(1000);
  const expired: string[] = [];
  const a = sweeper.track(100, () => expired.push('a'));
  sweeper.track(200, () => expired.push('b'));
  sweeper.track(50, () => {
    throw new Error('a throwing handler does not stop the others');
  });
  sweeper.done(a);
  sweeper.sweep(150);
  assert.deepEqual(expired, []);
  sweeper.sweep(250);
  sweeper.sweep(300);
  assert.deepEqual(expired, ['b']);
  assert.equal(sweeper.size, 0);
  sweeper.sweep(400); // stops its timer when nothing is in flight
});

test('withDeadline rejects a statement that never answers and abandons it; a prompt one resolves', async () => {
  let abandoned = 0;
  const never = new Promise<number>(() => undefined);
  await assert.rejects(
    withDeadline(
      never,
      20,
      () => Object.assign(new Error('late'), { code: 'STATEMENT_TIMEOUT' }),
      () => abandoned++,
    ),
    (error: { code?: string }) => error.code === 'STATEMENT_TIMEOUT',
  );
  assert.equal(abandoned, 1);
  assert.equal(
    await withDeadline(
      Promise.resolve(7),
      20,
      () => new Error('late'),
      () => abandoned++,
    ),
    7,
  );
  await assert.rejects(
    withDeadline(
      Promise.reject(new Error('sql')),
      20,
      () => new Error('late'),
      () => abandoned++,
    ),
    /sql/,
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(abandoned, 1);
});
