/**
 * Before/after in one run: the same benchmark suites, alternating between another build of Spillway
 * (the "before" tree: a checkout of main with its dist/ built, running its own bench files) and this
 * tree (the "after"), so both sides meet the same machine load. Reports Spillway's own figures side
 * by side with their ratio; the peers' figures in each suite stay in that suite's own output.
 *
 * Prepare the before tree once (here, main):
 *   mkdir -p /tmp/spillway-before && git archive main | tar -x -C /tmp/spillway-before
 *   ln -s "$PWD/node_modules" /tmp/spillway-before/node_modules
 *   (cd /tmp/spillway-before && npx tsc -p tsconfig.build.json && node scripts/copy-assets.mjs)
 * Then, after `npm run build` here:
 *   node --import tsx bench/before-after.ts [--before /tmp/spillway-before] [--rounds 2] [--suites pool-overhead,sqlite-readers]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resultsFromJsonSummary } from '../dist/cli/bench/json-summary.js';
import { machineLine, median } from './support.js';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string', default: '/tmp/spillway-before' },
    rounds: { type: 'string', default: '2' },
    suites: { type: 'string', default: 'pool-overhead,pool-memory,sqlite-readers,multiplex' },
    json: { type: 'boolean', default: false },
  },
});

/** Short settings per suite: each side runs every suite `rounds` times. */
const SUITE_ARGS: Record<string, string[]> = {
  'pool-overhead': ['--ops', '100000'],
  'pool-memory': ['--waiters', '1000'],
  'sqlite-readers': ['--seconds', '0.5', '--rounds', '3'],
  multiplex: ['--seconds', '1', '--rounds', '2'],
  'observability-overhead': [],
};

const AFTER = resolve(import.meta.dirname, '..');
const BEFORE = resolve(args.before);
const ROUNDS = Number(args.rounds);
if (!existsSync(`${BEFORE}/dist/index.js`)) {
  // Not an error: `spillway bench` runs every suite, and this one needs a before tree prepared by hand.
  console.log(`before-after: no build at ${BEFORE}/dist, nothing to compare (see the comment at the top of this file)`);
  process.exit(0);
}

type Figures = Map<string, { unit: string; higherIsBetter: boolean; values: number[] }>;

/** sqlite-readers prints `reads` ({ contender: { workload: q/s } }): the summary's `table` shape. */
function normalized(line: string): string {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  if (parsed.table === undefined && parsed.reads !== undefined)
    return JSON.stringify({ ...parsed, table: parsed.reads, unit: 'queries/s' });
  return line;
}

/**
 * The multiplex suite compares against another build itself (`--before DIR`, inside one run and one
 * server): its own table, kept as it prints it.
 */
function multiplexTable(): string[] {
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'bench/multiplex.ts', '--seconds', '1', '--rounds', String(ROUNDS), '--before', `${BEFORE}/dist`],
    { cwd: AFTER, encoding: 'utf8', timeout: 20 * 60_000 },
  );
  if (run.status !== 0) return [`multiplex failed: ${run.stderr.split('\n').slice(-4).join(' ')}`];
  return run.stdout.split('\n').filter((l) => l.startsWith('|') || l.startsWith('#') || l.startsWith('Machine'));
}

/** One run of `suite` in `root` (its own bench file against its own dist/): Spillway's figures by case. */
function runSuite(root: string, suite: string, into: Figures): void {
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${suite}.ts`, ...(SUITE_ARGS[suite] ?? []), '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (run.status !== 0) throw new Error(`${suite} failed in ${root}:\n${run.stderr.split('\n').slice(-8).join('\n')}`);
  const line = run.stdout
    .trim()
    .split('\n')
    .findLast((l) => l.startsWith('{'));
  const results = line === undefined ? undefined : resultsFromJsonSummary(normalized(line), suite);
  if (results === undefined) throw new Error(`${suite} printed no JSON summary in ${root}`);
  for (const result of results) {
    if (!result.subject.startsWith('spillway')) continue; // Spillway's own figures
    const key = `${result.case} [${result.subject}]`;
    const entry = into.get(key) ?? { unit: result.unit, higherIsBetter: result.higherIsBetter, values: [] };
    entry.values.push(result.value);
    into.set(key, entry);
  }
}

const load = (): string => {
  const out = spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  return out.slice(out.indexOf('load average'));
};

const rows: { suite: string; case: string; unit: string; before: number; after: number; better: number }[] = [];
const loads: string[] = [load()];
let multiplex: string[] = [];
for (const suite of args.suites
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)) {
  if (suite === 'multiplex') {
    multiplex = multiplexTable();
    loads.push(load());
    continue;
  }
  const before: Figures = new Map();
  const after: Figures = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first, so a load that drifts over the run favours neither.
    const order = round % 2 === 0 ? [BEFORE, AFTER] : [AFTER, BEFORE];
    for (const root of order) runSuite(root, suite, root === BEFORE ? before : after);
    loads.push(load());
  }
  for (const [key, b] of before) {
    const a = after.get(key);
    if (a === undefined) continue;
    const mb = median(b.values);
    const ma = median(a.values);
    // > 1: the after side is better (faster or leaner), whatever the unit's direction.
    rows.push({ suite, case: key, unit: a.unit, before: mb, after: ma, better: a.higherIsBetter ? ma / mb : mb / ma });
  }
}

if (args.json) {
  console.log(JSON.stringify({ bench: 'before-after', machine: machineLine(), loads, rows, multiplex }));
} else {
  console.log(`Before (${BEFORE}) and after (${AFTER}), same run, median of ${ROUNDS} alternating rounds; ${machineLine()}`);
  console.log(`Load: ${loads.join(' → ')}`);
  console.log('| suite | case | unit | before | after | after vs before (>1 better) |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const r of rows) {
    const digits = r.before < 10 ? 2 : 0;
    console.log(
      `| ${r.suite} | ${r.case} | ${r.unit} | ${r.before.toFixed(digits)} | ${r.after.toFixed(digits)} | ${r.better.toFixed(2)} |`,
    );
  }
  if (multiplex.length > 0) {
    console.log('');
    console.log('multiplex (its own same-run comparison: "spillway (before)" is the before build):');
    for (const line of multiplex) console.log(line);
  }
}
