#!/usr/bin/env node
// Build dist/ when it is missing or older than the sources. npm runs this as `prepare` (after npm install
// and npm ci: the one build) and as `prestart` (a no-op unless the sources changed since, after an edit
// or a git pull), so `npm start` itself never compiles and can exec node. Without TypeScript (an install
// with --omit=dev over a copied dist/) an existing build is kept rather than failing the install.
//   node scripts/ensure-built.mjs [root]           build when dist/ is missing or older than the sources
//   node scripts/ensure-built.mjs --check [root]   print missing | stale | fresh, build nothing
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Written by scripts/copy-assets.mjs as the build's last step: its time is the build's. */
const BUILD_STAMP = join('dist', '.build-stamp');
/** What the build reads: a change to any of these makes dist/ stale. */
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

function newestChange(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  // A directory's own time changes when a file is added, removed or renamed in it.
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, name)));
  return newest;
}

function buildState(root) {
  const stamp = join(root, BUILD_STAMP);
  if (!existsSync(stamp)) return 'missing';
  const builtAt = statSync(stamp).mtimeMs;
  return INPUTS.some((input) => newestChange(join(root, input)) > builtAt) ? 'stale' : 'fresh';
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const root = args.find((a) => a !== '--check') ?? process.cwd();
const state = buildState(root);
if (check) {
  process.stdout.write(`${state}\n`);
  process.exit(0);
}
if (state === 'fresh') process.exit(0);
if (!existsSync(join(root, 'node_modules', 'typescript'))) {
  // An install without devDependencies: serve the build that is there rather than fail to start.
  if (state === 'stale') {
    process.stderr.write('spillway: the sources changed since the last build, but TypeScript is not installed; using the existing build\n');
    process.exit(0);
  }
  process.stderr.write('spillway: dist/ is missing and TypeScript is not installed; run `npm install` (with devDependencies) first\n');
  process.exit(1);
}
process.stderr.write(`spillway: ${state === 'missing' ? 'no build yet' : 'the sources changed since the last build'}; building\n`);
const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
