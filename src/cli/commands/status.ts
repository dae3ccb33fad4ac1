import { createPool } from '../../create-pool.js';
import { httpUrlFlag, parseCommand, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { renderTable } from '../output.js';
import { getJson } from '../service-client.js';

const spec = {
  name: 'status',
  options: {
    url: { type: 'string' },
    service: { type: 'string' },
    token: { type: 'string' },
    json: { type: 'boolean' },
  },
  help: `Usage: spillway status [--url URL | --service http://host:port] [--json]

Show a pool's status and health as a table (or JSON with --json).

  --url URL        open a pool on this database (as configured by the DB_* environment) and check it
  --service URL    ask a running Spillway service (its /health/pool and /health/detailed endpoints)
  --token TOKEN    bearer token for a service whose detailed endpoints are protected (or SPILLWAY_TOKEN)
  --json           print {"pool": ..., "health": ...} as JSON
  -h, --help       show this help

Without --url or --service: DATABASE_URL when set, else the service at http://127.0.0.1:$PORT (8000).
Exit status: 0 healthy or degraded, 1 unhealthy or unreachable, 2 bad usage.`,
} as const;

interface Snapshot {
  pool: Record<string, unknown>;
  health: Record<string, unknown>;
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
    const url = values.url ?? (values.service === undefined ? process.env.DATABASE_URL : undefined);
    const snapshot =
      url !== undefined
        ? await fromDatabase(url)
        : await fromService(
            httpUrlFlag('status', 'service', values.service ?? `http://127.0.0.1:${process.env.PORT ?? '8000'}`),
            values.token ?? process.env.SPILLWAY_TOKEN,
          );
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
  return `${renderTable(['pool', 'value'], poolRows)}\n\n${renderTable(['health', 'value'], healthRows)}`;
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
