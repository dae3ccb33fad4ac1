import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/ensure-built.mjs', import.meta.url));

/** What `npm start`'s prestart decides for the checkout at `root`, without building. */
function state(root: string): string {
  const result = spawnSync(process.execPath, [SCRIPT, '--check', root], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test('npm start builds only when dist/ is missing or older than src/ and the tsconfigs (an edit, a new file, a git pull)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'spillway-build-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);
  mkdirSync(join(root, 'src', 'pool'), { recursive: true });
  for (const file of ['src/index.ts', 'src/pool/pool.ts', 'tsconfig.json', 'tsconfig.build.json']) {
    writeFileSync(join(root, file), '');
    at(file, 1000);
  }
  at('src/pool', 1000);
  at('src', 1000);
  assert.equal(state(root), 'missing');

  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', '.build-stamp'), '');
  at('dist/.build-stamp', 2000);
  assert.equal(state(root), 'fresh');

  at('src/pool/pool.ts', 3000); // an edit deep in src
  assert.equal(state(root), 'stale');
  at('src/pool/pool.ts', 1000);
  at('tsconfig.build.json', 3000);
  assert.equal(state(root), 'stale');
  at('tsconfig.build.json', 1000);
  assert.equal(state(root), 'fresh');

  writeFileSync(join(root, 'src', 'pool', 'new.ts'), ''); // a new file, even one with an old time (a checkout)
  at('src/pool/new.ts', 1000);
  assert.equal(state(root), 'stale');
});
