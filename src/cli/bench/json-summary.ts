import type { BenchResult } from './bench-result.js';

/** Metric names and units where a smaller figure is the better one (latency, time, memory). */
const LOWER_IS_BETTER = /(^|[^a-z])(ms|ns|us|µs|bytes?|latency|p50|p95|p99|memory|time|cpu)|Ms$|Ns$|Us$|Bytes$/i;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Turn the one-line JSON summary the project's suites print with `--json`, `{ bench, table | rows, unit? }`,
 * into results. Shapes understood:
 *   table: { subject: number }                          one case, named after the suite
 *   table: { subject: { case: number } }                 one row per case (for example callers)
 *   table: { subject: { case: { metric: number } } }     one row per case and metric
 *   rows:  [{ <first string field>: subject, metric: number, ... }]
 */
export function resultsFromJsonSummary(line: string, suite: string): BenchResult[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || (parsed.table === undefined && parsed.rows === undefined)) return undefined;
  const name = typeof parsed.bench === 'string' ? parsed.bench : suite;
  const unit = typeof parsed.unit === 'string' ? parsed.unit : '';
  const results: BenchResult[] = [];
  const add = (subject: string, caseName: string, metricUnit: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    results.push({
      suite: name,
      case: caseName,
      subject,
      value,
      unit: metricUnit,
      higherIsBetter: !LOWER_IS_BETTER.test(metricUnit || name),
    });
  };
  if (isRecord(parsed.table)) {
    for (const [subject, cell] of Object.entries(parsed.table)) {
      if (!isRecord(cell)) add(subject, name, unit, cell);
      else
        for (const [caseKey, inner] of Object.entries(cell)) {
          if (!isRecord(inner)) add(subject, `${name} @${caseKey}`, unit, inner);
          else for (const [metric, value] of Object.entries(inner)) add(subject, `${metric} @${caseKey}`, metric, value);
        }
    }
  } else if (Array.isArray(parsed.rows)) {
    for (const row of parsed.rows) {
      if (!isRecord(row)) continue;
      const subject = Object.values(row).find((v) => typeof v === 'string');
      if (typeof subject !== 'string') continue;
      for (const [metric, value] of Object.entries(row)) add(subject, metric, metric, value);
    }
  }
  return results;
}
