import assert from 'node:assert/strict';
import { test } from 'node:test';

// Imports the built package by its name, the way users do (npm test builds first).
test('the spillway entry point exports the contract surface', async () => {
  const spillway = await import('spillway');
  for (const name of ['createPool', 'sql', 'SpillwayError', 'recommendPoolSize', 'resolveConfig', 'ERROR_CODES']) {
    assert.ok(name in spillway, `${name} exported`);
  }
  assert.throws(
    () => spillway.createPool({ url: 'postgres://x@127.0.0.1/db', size: -3, env: {} }),
    (error: unknown) => {
      assert.ok(error instanceof spillway.SpillwayError);
      assert.equal((error as { code: string }).code, 'CONFIG_INVALID');
      return true;
    },
  );
  const recommendation = spillway.recommendPoolSize({ budget: 100, podCount: 4, reserved: 10 });
  assert.ok(recommendation.totalMax <= 90);
  assert.equal(recommendation.size + recommendation.maxOverflow, recommendation.perPodMax);
});
