import assert from 'node:assert/strict';
import { test } from 'node:test';

// Imports the built package by its name, the way users do (npm test builds first).
test('the core building blocks are behind spillway/internal, not the public entry', async () => {
  const spillway = await import('spillway');
  const internal = await import('spillway/internal');
  for (const name of ['ConnectionPool', 'Observability', 'DatabasePool', 'openDatabase', 'systemClock']) {
    assert.ok(name in internal, `${name} in spillway/internal`);
    assert.ok(!(name in spillway), `${name} not in spillway`);
  }
});
