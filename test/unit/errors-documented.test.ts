import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/errors.js';

test('every error code is documented in the README and the contract codes all exist', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) assert.match(readme, new RegExp(`\\| ${code} \\|`), `${code} in README`);
  const contract = [
    'CONFIG_INVALID',
    'POOL_TIMEOUT',
    'POOL_CLOSED',
    'CIRCUIT_OPEN',
    'CONNECT_TIMEOUT',
    'CONNECTION_LOST',
    'STATEMENT_TIMEOUT',
    'LOCK_TIMEOUT',
    'ACQUIRE_ABORTED',
    'LEAK_RECLAIMED',
    'BATCH_INVALID',
  ];
  for (const code of contract) assert.ok(code in ERROR_CODES, `${code} declared`);
});
