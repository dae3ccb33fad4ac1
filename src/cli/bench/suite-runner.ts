import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type { BenchResult } from './bench-result.js';
import { resultsFromJsonSummary } from './json-summary.js';

export type { BenchResult } from './bench-result.js';

/**
 * One measurement. A suite reports measurements in one of two ways on stdout: the one-line JSON
 * summary of resultsFromJsonSummary (what the project's suites print with `--json`), or a line
 * `BENCH {json}` per measurement:
 *   BENCH {"case":"SELECT 1, 100 callers","subject":"spillway","value":41234,"unit":"queries/s"}
 * `higherIsBetter` defaults to true (set false for latencies). Anything else a suite prints is its own.
 * A suite may print `BENCH-PROGRESS 0.4` (0..1) so the progress bar moves within it.
 */
export interface SuiteRun {
  suite: string;
  file: string;
  exitCode: number | null;
  seconds: number;
  results: BenchResult[];
  /** The last lines of stderr when the suite failed. */
  errorTail: string | undefined;
  /** Markdown tables the suite printed (kept as they are when it printed no results). */
  markdown: string[];
}

/**
 * Benchmark suites: the top-level `*.ts` files of `dir`, except helpers: files another file there
 * imports (`./support.js`), or whose name starts with `_`.
 */
export function discoverSuites(dir: string, filter?: string): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !e.name.startsWith('_'))
    .map((e) => join(dir, e.name));
  const sources = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
  const imported = (file: string) => {
    const specifier = `./${basename(file, '.ts')}.js`;
    return [...sources].some(([other, text]) => other !== file && (text.includes(`'${specifier}'`) || text.includes(`"${specifier}"`)));
  };
  return files.filter((f) => !imported(f) && (filter === undefined || f.includes(filter))).sort();
}

/** Suites that declare a `--json` flag print their one-line summary with it. */
function takesJsonFlag(file: string): boolean {
  return /\bjson\s*:\s*\{\s*type\s*:\s*'boolean'/.test(readFileSync(file, 'utf8'));
}

/** Parse one stdout line; undefined unless it is a well-formed BENCH line. */
export function parseBenchLine(line: string, suite: string): BenchResult | number | undefined {
  const progress = /^BENCH-PROGRESS\s+([0-9.]+)\s*$/.exec(line);
  if (progress) return Number(progress[1]);
  if (!line.startsWith('BENCH ')) return undefined;
  try {
    const raw = JSON.parse(line.slice(6)) as Record<string, unknown>;
    if (typeof raw.case !== 'string' || typeof raw.subject !== 'string' || typeof raw.value !== 'number' || !Number.isFinite(raw.value))
      return undefined;
    return {
      suite: typeof raw.suite === 'string' ? raw.suite : suite,
      case: raw.case,
      subject: raw.subject,
      value: raw.value,
      unit: typeof raw.unit === 'string' ? raw.unit : '',
      higherIsBetter: raw.higherIsBetter !== false,
    };
  } catch {
    return undefined;
  }
}

/** Run one suite as a child process (node with tsx), collecting its BENCH lines. */
export function runSuite(file: string, timeoutMs: number, onProgress: (fraction: number) => void): Promise<SuiteRun> {
  const suite = file.replace(/^.*[\\/]/, '').replace(/\.ts$/, '');
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const started = Date.now();
  return new Promise((resolve) => {
    // --expose-gc: memory suites force collections between measurements.
    const args = ['--expose-gc', '--import', tsx, file, ...(takesJsonFlag(file) ? ['--json'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const results: BenchResult[] = [];
    const markdown: string[] = [];
    const take = (raw: string) => {
      const line = raw.trim();
      const parsed = parseBenchLine(line, suite);
      if (typeof parsed === 'number') onProgress(parsed);
      else if (parsed !== undefined) results.push(parsed);
      else if (line.startsWith('{')) results.push(...(resultsFromJsonSummary(line, suite) ?? []));
      else if (line.startsWith('|')) markdown.push(line);
    };
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) take(line);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      take(buffered);
      resolve({
        suite,
        file,
        exitCode: code,
        seconds: (Date.now() - started) / 1000,
        results,
        markdown,
        errorTail: code === 0 ? undefined : errorLines(stderr) || `killed after ${timeoutMs / 1000} s`,
      });
    });
  });
}

/** The last few lines of stderr that say something: the error message, not the stack or Node's banner. */
function errorLines(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !/^\s+at /.test(line) && !/^Node\.js v/.test(line));
  return lines.slice(-3).join('\n');
}
