import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultsFromJsonSummary } from '../../src/cli/bench/json-summary.js';
import { groupCases, mergeSection, renderSection, SECTION_END, SECTION_START, spillwayRatio } from '../../src/cli/bench/report.js';
import { parseBenchLine, type SuiteRun } from '../../src/cli/bench/suite-runner.js';
import { renderChart } from '../../src/cli/bench/svg-chart.js';

const run: SuiteRun = {
  suite: 'throughput',
  file: 'bench/throughput.ts',
  exitCode: 0,
  seconds: 3,
  errorTail: undefined,
  markdown: [],
  results: [
    { suite: 'throughput', case: 'SELECT 1, 100 callers', subject: 'spillway', value: 2000, unit: 'q/s', higherIsBetter: true },
    { suite: 'throughput', case: 'SELECT 1, 100 callers', subject: 'pg.Pool', value: 1600, unit: 'q/s', higherIsBetter: true },
    { suite: 'throughput', case: 'SELECT 1, 100 callers', subject: 'tarn', value: 1000, unit: 'q/s', higherIsBetter: true },
    { suite: 'throughput', case: 'p99, 100 callers', subject: 'spillway', value: 5, unit: 'ms', higherIsBetter: false },
    { suite: 'throughput', case: 'p99, 100 callers', subject: 'pg.Pool', value: 10, unit: 'ms', higherIsBetter: false },
  ],
};

test('bench: BENCH lines are parsed; other lines and malformed JSON are ignored', () => {
  assert.deepEqual(parseBenchLine('BENCH {"case":"c","subject":"spillway","value":3,"unit":"ms","higherIsBetter":false}', 'suite'), {
    suite: 'suite',
    case: 'c',
    subject: 'spillway',
    value: 3,
    unit: 'ms',
    higherIsBetter: false,
  });
  assert.equal(parseBenchLine('BENCH-PROGRESS 0.5', 's'), 0.5);
  assert.equal(parseBenchLine('BENCH {not json', 's'), undefined);
  assert.equal(parseBenchLine('BENCH {"case":"c","subject":"x","value":"fast"}', 's'), undefined);
  assert.equal(parseBenchLine('pg.Pool 1600 q/s', 's'), undefined);
});

test('bench: the ratio compares Spillway with the best peer, inverted for lower-is-better', () => {
  const [throughput, latency] = groupCases(run.results);
  assert.equal(spillwayRatio(throughput!), 1.25);
  assert.equal(spillwayRatio(latency!), 2);
});

test('bench: the generated section replaces its previous version and keeps the other sections', () => {
  const section = renderSection([run], 'spillway bench', 'results.svg');
  assert.match(section, /\| SELECT 1, 100 callers \| q\/s \| 2,000 \| 1,600 \| 1,000 \| 1\.25x \|/);
  const existing = `# Benchmark results\n\n## Batch (issue 7)\nmine\n\n${SECTION_START}\nold figures\n${SECTION_END}\n\n## After\nkept\n`;
  const merged = mergeSection(existing, section);
  assert.match(merged, /## Batch \(issue 7\)\nmine/);
  assert.match(merged, /## After\nkept/);
  assert.doesNotMatch(merged, /old figures/);
  assert.equal(merged.split(SECTION_START).length, 2);
  assert.match(mergeSection('# R\n\n## Other\nx\n', section), /## Other\nx\n\n<!-- spillway bench: start/);
});

test('bench: the SVG chart has one bar per subject and case, and escapes names', () => {
  const svg = renderChart([...run.results, { suite: 's', case: '<script>', subject: 'a&b', value: 1, unit: 'x', higherIsBetter: true }]);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<rect x="320"/g) ?? []).length, 6);
  assert.doesNotMatch(svg, /<script>/);
  assert.match(svg, /a&amp;b/);
});

test('bench: the JSON summaries the suites print with --json become results', () => {
  const nested = resultsFromJsonSummary(
    JSON.stringify({ bench: 'pg-select1', table: { spillway: { 10: { qps: 900, p99Ms: 4 } }, 'pg.Pool': { 10: { qps: 800, p99Ms: 6 } } } }),
    'file',
  )!;
  assert.deepEqual(
    nested.map((r) => [r.subject, r.case, r.value, r.higherIsBetter]),
    [
      ['spillway', 'qps @10', 900, true],
      ['spillway', 'p99Ms @10', 4, false],
      ['pg.Pool', 'qps @10', 800, true],
      ['pg.Pool', 'p99Ms @10', 6, false],
    ],
  );
  const flat = resultsFromJsonSummary(
    JSON.stringify({ bench: 'pool-overhead', unit: 'ns/op', table: { spillway: { 100: 120 } } }),
    'file',
  )!;
  assert.deepEqual(flat[0], {
    suite: 'pool-overhead',
    case: 'pool-overhead @100',
    subject: 'spillway',
    value: 120,
    unit: 'ns/op',
    higherIsBetter: false,
  });
  const rows = resultsFromJsonSummary(
    JSON.stringify({ bench: 'obs', rows: [{ name: 'spillway (metrics on)', qps: 5, runs: [1, 2] }] }),
    'file',
  )!;
  assert.deepEqual(
    rows.map((r) => [r.subject, r.case, r.value]),
    [['spillway (metrics on)', 'qps', 5]],
  );
  assert.equal(resultsFromJsonSummary('{"not":"a summary"}', 'file'), undefined);
});
