import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { intFlag, parseCommand, UsageError } from '../args.js';
import { mergeSection, renderSection } from '../bench/report.js';
import { discoverSuites, runSuite, type SuiteRun } from '../bench/suite-runner.js';
import { renderChart } from '../bench/svg-chart.js';
import type { Command } from '../command.js';
import { ProgressBar } from '../output.js';

const spec = {
  name: 'bench',
  options: {
    dir: { type: 'string' },
    filter: { type: 'string' },
    out: { type: 'string' },
    chart: { type: 'string' },
    timeout: { type: 'string' },
    list: { type: 'boolean' },
  },
  help: `Usage: spillway bench [--filter TEXT] [--dir bench] [--out bench/RESULTS.md] [--chart bench/results.svg]

Run the benchmark suites (the top-level *.ts files under bench/, one child process each, with tsx)
with a progress bar, then write their figures into a generated section of bench/RESULTS.md (other
sections are kept) and an SVG bar chart comparing Spillway with its peers.

A suite reports each measurement as one stdout line:
  BENCH {"case":"SELECT 1, 100 callers","subject":"pg.Pool","value":18250,"unit":"queries/s"}
("higherIsBetter": false for latencies). Run it from the repository root (it needs tsx).

  --filter TEXT    only suites whose path contains TEXT
  --dir DIR        where the suites are (default bench)
  --out FILE       the results file (default DIR/RESULTS.md)
  --chart FILE     the SVG chart (default DIR/results.svg)
  --timeout S      seconds one suite may run before it is stopped, 1 to 86400 (default 900)
  --list           list the suites and exit
  -h, --help       show this help

Exit status: 0 every suite passed, 1 a suite failed, 2 bad usage.`,
} as const;

/** `spillway bench`: run bench/*.ts, collect BENCH lines, write RESULTS.md and an SVG chart. */
export const benchCommand: Command = {
  name: spec.name,
  async run(argv) {
    const parsed = parseCommand(spec, argv);
    if (parsed === undefined) return 0;
    const { values } = parsed;
    const dir = values.dir ?? 'bench';
    const out = values.out ?? `${dir}/RESULTS.md`;
    const chart = values.chart ?? `${dir}/results.svg`;
    // At most a day: a longer timer would overflow setTimeout's 2^31 ms and fire at once.
    const timeoutMs = intFlag('bench', 'timeout', values.timeout, 900, 1, 86_400) * 1000;
    const suites = discoverSuites(dir, values.filter);
    if (suites.length === 0)
      throw new UsageError(`spillway bench: no suites (*.ts) under ${dir}${values.filter ? ` matching "${values.filter}"` : ''}`);
    if (values.list) {
      process.stdout.write(`${suites.join('\n')}\n`);
      return 0;
    }

    const bar = new ProgressBar();
    const runs: SuiteRun[] = [];
    for (const [i, file] of suites.entries()) {
      bar.update(i / suites.length, file, true);
      const run = await runSuite(file, timeoutMs, (fraction) => bar.update((i + Math.min(1, fraction)) / suites.length, file));
      runs.push(run);
      // Clear the bar's line on a terminal, then one line per suite (in logs too).
      const clear = process.stderr.isTTY ? '\r\x1b[K' : '';
      process.stderr.write(
        `${clear}${run.exitCode === 0 ? 'ok    ' : 'FAILED'} ${file}: ${run.results.length} results in ${run.seconds.toFixed(1)} s\n`,
      );
    }
    bar.done(`${suites.length} suite(s) done`);

    const results = runs.flatMap((r) => r.results);
    mkdirSync(dirname(chart), { recursive: true });
    writeFileSync(chart, renderChart(results));
    const command = ['spillway bench', ...argv].join(' ');
    const section = renderSection(runs, command, relative(dirname(out), chart));
    let existing: string | undefined;
    try {
      existing = readFileSync(out, 'utf8');
    } catch {}
    writeFileSync(out, mergeSection(existing, section));
    process.stdout.write(`wrote ${out} and ${chart}\n`);
    return runs.every((r) => r.exitCode === 0) ? 0 : 1;
  },
};
