import { createPool } from '../../create-pool.js';
import { httpUrlFlag, parseCommand, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { renderTable } from '../output.js';
import { getJson, postJson } from '../service-client.js';

const spec = {
  name: 'status',
  options: {
    url: { type: 'string' },
    service: { type: 'string' },
    token: { type: 'string' },
    json: { type: 'boolean' },
    reset: { type: 'boolean' },
  },
  help: `Usage: spillway status [--url URL | --service http://host:port] [--reset] [--json]

Show a pool's status and health as a table (or JSON with --json).

  --url URL        open a pool on this database (as configured by the DB_* environment) and check it
  --service URL    ask a running Spillway service (its /health/pool and /health/detailed endpoints)
  --token TOKEN    bearer token for a service whose detailed endpoints are protected (or SPILLWAY_TOKEN)
  --reset          first reset the service's statistics (POST /metrics/reset: stats() counters and the
                   performance summary; Prometheus counters keep growing) and print what they were;
                   needs the service's token, and a service (not --url)
  --json           print {"pool": ..., "health": ...} (and "reset") as JSON
  -h, --help       show this help

Without --url or --service: DATABASE_URL when set (the service at http://127.0.0.1:$PORT with
--reset), else the service at http://127.0.0.1:$PORT (8000).
Exit status: 0 healthy or degraded, 1 unhealthy, unreachable or reset refused, 2 bad usage.`,
} as const;

interface Snapshot {
  pool: Record<string, unknown>;
  health: Record<string, unknown>;
  /** With --reset: what the service answered (each pool's figures just before). */
  reset?: Record<string, unknown>;
  /** --url only: why the one health check failed (the database refused or did not answer). */
  unreachable?: string;
}

/** `spillway status`: the pool's status and health, from a database URL or a running service. */
export const statusCommand: Command = {
  name: spec.name,
  async run(argv) {
    const parsed = parseCommand(spec, argv);
    if (parsed === undefined) return 0;
    const { values } = parsed;
    if (values.url !== undefined && values.service !== undefined) {
      throw new UsageError('spillway status: give --url or --service, not both');
    }
    if (values.reset && values.url !== undefined) {
      throw new UsageError("spillway status: --reset resets a running service's statistics; give --service, not --url");
    }
    const url = values.url ?? (values.service === undefined && !values.reset ? process.env.DATABASE_URL : undefined);
    const service = httpUrlFlag('status', 'service', values.service ?? `http://127.0.0.1:${process.env.PORT ?? '8000'}`);
    const token = values.token ?? process.env.SPILLWAY_TOKEN;
    const reset = values.reset ? await resetService(service, token) : undefined;
    const snapshot = url !== undefined ? await fromDatabase(url) : await fromService(service, token);
    if (reset !== undefined) snapshot.reset = reset;
    process.stdout.write(`${values.json ? JSON.stringify(snapshot, null, 2) : renderSnapshot(snapshot)}\n`);
    if (snapshot.unreachable !== undefined) {
      process.stderr.write(`spillway status: the health check failed: ${snapshot.unreachable}\n`);
      return 1;
    }
    return snapshot.health.status === 'unhealthy' ? 1 : 0;
  },
};

/**
 * One health check on a pool of our own. A service calls a single failed ping "degraded" (the next
 * may pass); here it is the only check there is, so a database that refused or did not answer
 * (unreachable, wrong password) is `unreachable` and the exit status 1.
 */
async function fromDatabase(url: string): Promise<Snapshot> {
  const db = createPool({ url });
  try {
    const health = (await db.health()) as unknown as Record<string, unknown>;
    const pool = db.status();
    return {
      pool: { ...pool, utilization: pool.max === 0 ? 0 : pool.checkedOut / pool.max },
      health: withoutPool(health),
      ...(health.latencyMs === undefined ? { unreachable: String(health.error ?? 'no answer') } : {}),
    };
  } finally {
    await db.close();
  }
}

async function fromService(base: string, token: string | undefined): Promise<Snapshot> {
  const pool = await getJson(base, '/health/pool', token);
  if (pool.status !== 200) throw new Error(`${base}/health/pool answered ${pool.status}; is this a Spillway service?`);
  const detailed = await getJson(base, '/health/detailed', token);
  if (detailed.status === 401 || detailed.status === 403) {
    throw new Error(`${base}/health/detailed answered ${detailed.status}; pass --token (or SPILLWAY_TOKEN)`);
  }
  return { pool: pool.body, health: withoutPool(detailed.body) };
}

/** POST /metrics/reset; a refusal is an error naming the fix. */
async function resetService(base: string, token: string | undefined): Promise<Record<string, unknown>> {
  const answer = await postJson(base, '/metrics/reset', token);
  if (answer.status === 200) return answer.body;
  const reason = typeof answer.body.error === 'string' ? `: ${answer.body.error}` : '';
  const fix =
    answer.status === 401
      ? '; pass --token (or SPILLWAY_TOKEN)'
      : answer.status === 403
        ? '; the service has no token: start it with SPILLWAY_TOKEN set'
        : '';
  throw new Error(`${base}/metrics/reset answered ${answer.status}${reason}${fix}`);
}

function withoutPool(health: Record<string, unknown>): Record<string, unknown> {
  const { pool: _pool, ...rest } = health;
  return rest;
}

const POOL_FIELDS = ['name', 'size', 'maxOverflow', 'checkedIn', 'checkedOut', 'overflow', 'total', 'waiting', 'utilization'];

/** The snapshot as two small tables: the pool's counts, then the health summary. */
export function renderSnapshot(snapshot: Snapshot): string {
  const poolRows = POOL_FIELDS.filter((k) => snapshot.pool[k] !== undefined).map((k) => [k, formatValue(k, snapshot.pool[k])]);
  const health = snapshot.health;
  // health() reports { active, recent }; only the active alerts describe the pool now.
  const rawAlerts = health.alerts as { active?: unknown } | unknown[] | undefined;
  const alerts = (Array.isArray(rawAlerts) ? rawAlerts : Array.isArray(rawAlerts?.active) ? rawAlerts.active : []) as Record<
    string,
    unknown
  >[];
  const healthRows: unknown[][] = [];
  for (const [key, value] of Object.entries(health)) {
    if (key === 'alerts' || key === 'history' || value === undefined) continue;
    healthRows.push([key, formatValue(key, value)]);
  }
  healthRows.push([
    'alerts',
    alerts.length === 0 ? 'none' : alerts.map((a) => `${String(a.severity ?? '')} ${String(a.type ?? a.message ?? '')}`.trim()).join('; '),
  ]);
  const tables = `${renderTable(['pool', 'value'], poolRows)}\n\n${renderTable(['health', 'value'], healthRows)}`;
  return snapshot.reset === undefined ? tables : `${renderReset(snapshot.reset)}\n\n${tables}`;
}

/** One line per pool reset: when, and the main figures it had. */
function renderReset(reset: Record<string, unknown>): string {
  const pools = (Array.isArray(reset.pools) ? reset.pools : []) as {
    pool?: string;
    resetAt?: string;
    before?: { stats?: Record<string, number>; performance?: { queryMs?: Record<string, number>; totals?: Record<string, number> } };
  }[];
  const rows = pools.map((p) => {
    const stats = p.before?.stats ?? {};
    const performance = p.before?.performance;
    const figures = [
      `${stats.checkouts ?? 0} checkouts`,
      `${stats.timeouts ?? 0} timeouts`,
      `${stats.created ?? 0} connections opened`,
      ...(performance === undefined
        ? []
        : [`${performance.totals?.queries ?? 0} statements`, `query p95 ${(performance.queryMs?.p95 ?? 0).toFixed(1)} ms`]),
    ];
    return [String(p.pool ?? '?'), String(p.resetAt ?? ''), figures.join(', ')];
  });
  return `statistics reset (Prometheus counters keep counting)\n${renderTable(['pool', 'reset at', 'before the reset'], rows)}`;
}

function formatValue(key: string, value: unknown): string {
  if (typeof value === 'number') {
    if (key === 'utilization') return `${(value * 100).toFixed(0)}%`;
    if (/Ms$/.test(key)) return `${value.toFixed(1)} ms`;
    return String(value);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(String).join('; ');
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v === null || typeof v !== 'object');
    return entries.map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : String(v)}`).join(' ');
  }
  return String(value);
}
