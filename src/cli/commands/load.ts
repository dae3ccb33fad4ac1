import { performance } from 'node:perf_hooks';
import { httpUrlFlag, intFlag, parseCommand, secondsFlag, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { formatMs, ProgressBar, percentile, renderTable } from '../output.js';
import { getJson } from '../service-client.js';

const spec = {
  name: 'load',
  options: {
    service: { type: 'string' },
    concurrency: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: spillway load --service http://host:port [--concurrency N] [--duration S] [--json]

Drive a running reference service's API (users by name, user search, statistics, books with their
authors, an author with books) from N concurrent callers for S seconds, with a progress bar, then
print throughput, latency percentiles and errors, overall and per route.

  --service URL      the service (default http://127.0.0.1:$PORT, 8000)
  --concurrency N    concurrent callers, 1 to 10000 (default 10)
  --duration S       seconds to run, fractions allowed (default 10)
  --json             print the summary as JSON
  -h, --help         show this help

Exit status: 0 the run finished, 1 the service could not be reached, 2 bad usage.`,
} as const;

interface RouteResult {
  latencies: number[];
  errors: Map<string, number>;
}

/** `spillway load`: a small closed-loop load generator for the reference service. */
export const loadCommand: Command = {
  name: spec.name,
  async run(argv) {
    const parsed = parseCommand(spec, argv);
    if (parsed === undefined) return 0;
    const { values } = parsed;
    const base = httpUrlFlag('load', 'service', values.service ?? `http://127.0.0.1:${process.env.PORT ?? '8000'}`);
    const concurrency = intFlag('load', 'concurrency', values.concurrency, 10, 1, 10_000);
    const durationMs = secondsFlag('load', 'duration', values.duration, 10_000);

    const targets = await discover(base);
    const results = new Map<string, RouteResult>();
    const bar = new ProgressBar();
    const started = performance.now();
    const deadline = started + durationMs;
    let requests = 0;
    let failures = 0;

    const worker = async (seed: number) => {
      let i = seed;
      while (performance.now() < deadline) {
        const [route, path] = pick(targets, i++);
        let result = results.get(route);
        if (result === undefined) {
          result = { latencies: [], errors: new Map() };
          results.set(route, result);
        }
        const t0 = performance.now();
        const error = await call(base, path);
        result.latencies.push(performance.now() - t0);
        requests++;
        if (error !== undefined) {
          failures++;
          result.errors.set(error, (result.errors.get(error) ?? 0) + 1);
        }
      }
    };
    const ticker = setInterval(() => {
      const elapsed = performance.now() - started;
      bar.update(elapsed / durationMs, `${requests} requests, ${failures} errors, ${Math.round(requests / (elapsed / 1000))} req/s`);
    }, 200);
    try {
      await Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n * 7)));
    } finally {
      clearInterval(ticker);
    }
    const elapsedS = (performance.now() - started) / 1000;
    bar.done(`${requests} requests in ${elapsedS.toFixed(1)} s`);

    const summary = summarize(results, elapsedS, concurrency);
    process.stdout.write(`${values.json ? JSON.stringify(summary, null, 2) : renderSummary(summary)}\n`);
    return 0;
  },
};

type Target = [route: string, path: string];

/** Learn real usernames and ids from the service so every request hits existing rows. */
async function discover(base: string): Promise<Target[][]> {
  const users = await getJson<{ users?: { username: string }[] }>(base, '/api/users?limit=50');
  if (users.status !== 200 || !Array.isArray(users.body.users)) {
    throw new UsageError(`spillway load: ${base}/api/users answered ${users.status}; is this a Spillway reference service?`);
  }
  const authors = await getJson<{ authors?: { id: number }[] }>(base, '/api/authors');
  const names = users.body.users.map((u) => u.username);
  const authorIds = (authors.body.authors ?? []).map((a) => a.id);
  // Weighted mix: reads by key dominate, as in the services the seeds describe.
  return [
    names.map((n): Target => ['GET /api/users/:username', `/api/users/${encodeURIComponent(n)}`]),
    names.map((n): Target => ['GET /api/users?search', `/api/users?search=${encodeURIComponent(n.slice(0, 2))}&limit=10`]),
    [['GET /api/users/stats', '/api/users/stats'] as Target],
    [['GET /api/books', '/api/books?limit=20'] as Target],
    authorIds.map((id): Target => ['GET /api/authors/:id', `/api/authors/${id}`]),
  ].filter((group) => group.length > 0);
}

const WEIGHTS = [5, 2, 1, 2, 2];

function pick(groups: Target[][], i: number): Target {
  const total = groups.reduce((sum, _g, k) => sum + (WEIGHTS[k] ?? 1), 0);
  let slot = (i * 2654435761) % total;
  for (let k = 0; k < groups.length; k++) {
    const weight = WEIGHTS[k] ?? 1;
    if (slot < weight) {
      const group = groups[k]!;
      return group[i % group.length]!;
    }
    slot -= weight;
  }
  return groups[0]![0]!;
}

/** One request; resolves to an error label, or undefined on a 2xx. */
async function call(base: string, path: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(60_000) });
    const text = await response.text();
    if (response.ok) return undefined;
    let code = '';
    try {
      const body = JSON.parse(text) as { code?: string };
      if (body.code) code = ` ${body.code}`;
    } catch {}
    return `HTTP ${response.status}${code}`;
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? ((error.cause as { code?: string }).code ?? error.cause.message) : undefined;
    return cause ?? (error instanceof Error ? error.name : 'error');
  }
}

interface LoadSummary {
  concurrency: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  errors: number;
  errorsByKind: Record<string, number>;
  latencyMs: { p50?: number; p95?: number; p99?: number; max?: number };
  routes: { route: string; requests: number; errors: number; p50?: number; p95?: number; p99?: number }[];
}

function summarize(results: Map<string, RouteResult>, seconds: number, concurrency: number): LoadSummary {
  // Sorting every sample is fine at the volumes one CLI process produces (a few hundred thousand).
  const all = [...results.values()].flatMap((r) => r.latencies).sort((a, b) => a - b);
  const errorsByKind: Record<string, number> = {};
  for (const result of results.values()) for (const [kind, count] of result.errors) errorsByKind[kind] = (errorsByKind[kind] ?? 0) + count;
  const routes = [...results.entries()].map(([route, r]) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const errors = [...r.errors.values()].reduce((a, b) => a + b, 0);
    return {
      route,
      requests: sorted.length,
      errors,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
    };
  });
  return {
    concurrency,
    seconds,
    requests: all.length,
    requestsPerSecond: all.length / seconds,
    errors: Object.values(errorsByKind).reduce((a, b) => a + b, 0),
    errorsByKind,
    latencyMs: { p50: percentile(all, 50), p95: percentile(all, 95), p99: percentile(all, 99), max: all.at(-1) },
    routes,
  };
}

function renderSummary(s: LoadSummary): string {
  const head = [
    `${s.requests} requests in ${s.seconds.toFixed(1)} s from ${s.concurrency} callers: ${s.requestsPerSecond.toFixed(0)} req/s`,
    `latency p50 ${formatMs(s.latencyMs.p50)}, p95 ${formatMs(s.latencyMs.p95)}, p99 ${formatMs(s.latencyMs.p99)}, max ${formatMs(s.latencyMs.max)}`,
    `errors: ${
      s.errors === 0
        ? 'none'
        : Object.entries(s.errorsByKind)
            .map(([k, n]) => `${k} x${n}`)
            .join(', ')
    }`,
  ];
  const table = renderTable(
    ['route', 'requests', 'errors', 'p50', 'p95', 'p99'],
    s.routes.map((r) => [r.route, r.requests, r.errors, formatMs(r.p50), formatMs(r.p95), formatMs(r.p99)]),
  );
  return `${head.join('\n')}\n\n${table}`;
}
