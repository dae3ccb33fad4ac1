/**
 * Fault benchmark: Spillway against pg.Pool (defaults, and with query_timeout 5000), knex and
 * postgres.js, each under the same faults in the same run, through the same TCP chaos proxy.
 * 20 callers doing SELECT 1 plus one writer recording which INSERTs were acknowledged; pool of 10.
 *
 * Scenarios: blackhole (packets dropped for --blackhole-seconds; connections caught in it never
 * speak again), reset of every connection under load, reset of idle connections (traffic paused
 * around it), pg_terminate_backend of the pool's backends, kill -9 of the server and restart (a
 * throwaway cluster from /usr/lib/postgresql/15/bin).
 *
 * Per scenario and pool: longest call, errors by code, errors of calls begun after the fault
 * ended, calls that never returned, time from the fault's end to the first success, server
 * connections left after close(), acknowledged writes missing, process crashes (no 'error'
 * listener attached; the bench counts uncaught exceptions instead of dying).
 *
 * Run: npx tsx bench/faults.ts [--blackhole-seconds 20] [--targets spillway,pg,pg-timeout,knex,postgres.js]
 *                              [--scenarios blackhole,reset,idle-reset,terminate,kill] [--url postgres://postgres@127.0.0.1:5432/test]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import knex from 'knex';
import pg from 'pg';
import postgres from 'postgres';
import { createPool } from '../dist/index.js';
import { ChaosProxy } from '../test/support/chaos-proxy.js';
import { adminClient, lostWrites, serverConnections } from '../test/support/fault-checks.js';
import { type LoadResult, type LoadTarget, runLoad } from '../test/support/fault-load.js';
import { TempPostgres } from '../test/support/pg-cluster.js';
import { machineLine } from './support.js';

const { values: args } = parseArgs({
  options: {
    'blackhole-seconds': { type: 'string', default: '20' },
    targets: { type: 'string', default: 'spillway,pg,pg-timeout,knex,postgres.js' },
    scenarios: { type: 'string', default: 'blackhole,reset,idle-reset,terminate,kill' },
    url: { type: 'string', default: process.env.SPILLWAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});

const SIZE = 10;
/** Spillway's settings here: 5 s for checkout, statement and connect (pg.Pool's query_timeout peer uses 5 s too). */
const SPILLWAY = { checkoutTimeoutMs: 5000, statementTimeoutMs: 5000, connectTimeoutMs: 5000, circuit: { recoveryTimeoutMs: 1000 } };
const SPILLWAY_BOUND_MS = SPILLWAY.checkoutTimeoutMs + SPILLWAY.statementTimeoutMs + 1000;

type TargetName = 'spillway' | 'pg' | 'pg-timeout' | 'knex' | 'postgres.js';
const targetNames = args.targets.split(',') as TargetName[];

/** Build one pool as a load target; every one sets application_name so its server connections can be counted. */
function makeTarget(name: TargetName, url: string, table: string, applicationName: string): LoadTarget {
  const insertText = `INSERT INTO ${table} (id) VALUES ($1)`;
  switch (name) {
    case 'spillway': {
      const db = createPool({
        url,
        name: applicationName.replace(/^spillway:/, ''),
        size: SIZE,
        maxOverflow: 0,
        leakThresholdMs: 0,
        // Issue 4's figures were taken with a connection per statement; the fault tests run both modes.
        multiplex: false,
        env: {},
        ...SPILLWAY,
      });
      return {
        name,
        select: () => db.query('SELECT 1'),
        insert: (id) => db.query(insertText, [id]),
        close: () => db.close({ graceMs: 5000 }),
      };
    }
    case 'pg':
    case 'pg-timeout': {
      const pool = new pg.Pool({
        connectionString: url,
        max: SIZE,
        application_name: applicationName,
        ...(name === 'pg-timeout' ? { query_timeout: 5000 } : {}),
      });
      return { name, select: () => pool.query('SELECT 1'), insert: (id) => pool.query(insertText, [id]), close: () => pool.end() };
    }
    case 'knex': {
      const quiet = { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined };
      const db = knex({
        client: 'pg',
        connection: { connectionString: url, application_name: applicationName },
        pool: { min: 0, max: SIZE },
        log: quiet,
      });
      return {
        name,
        select: () => db.raw('SELECT 1'),
        insert: (id) => db.raw(`INSERT INTO ${table} (id) VALUES (?)`, [id]),
        close: () => db.destroy(),
      };
    }
    case 'postgres.js': {
      const sql = postgres(url, { max: SIZE, connection: { application_name: applicationName }, onnotice: () => undefined });
      return { name, select: () => sql`SELECT 1`, insert: (id) => sql.unsafe(insertText, [id]), close: () => sql.end({ timeout: 5 }) };
    }
  }
}

interface Row {
  target: TargetName;
  result: LoadResult;
  leaked: number;
  lost: number;
  crashes: number;
  closeHung: boolean;
}

let crashes = 0;
process.on('uncaughtException', () => crashes++);
process.on('unhandledRejection', () => crashes++);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Settle within `ms` or report that it did not. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  promise.catch(() => undefined);
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);
}

interface Scenario {
  name: string;
  describe: string;
  /** Where pools connect (through the proxy or straight to a cluster) and where the checks run. */
  setup(): Promise<{ url: string; adminUrl: string; proxy: ChaosProxy | undefined; cluster: TempPostgres | undefined }>;
  faultMs: number;
  /** Traffic paused around the fault, so that it hits idle connections. */
  quiet?: boolean;
  start(ctx: { proxy?: ChaosProxy; cluster?: TempPostgres; admin: pg.Client; applicationName: string }): Promise<void> | void;
  end(ctx: { proxy?: ChaosProxy; cluster?: TempPostgres }): Promise<void> | void;
}

const upstream = new URL(args.url);
async function viaProxy() {
  const proxy = new ChaosProxy({ host: upstream.hostname, port: Number(upstream.port || 5432) });
  await proxy.start();
  return { url: proxy.url(args.url), adminUrl: args.url, proxy, cluster: undefined };
}

const blackholeMs = Number(args['blackhole-seconds']) * 1000;
const SCENARIOS: Record<string, Scenario> = {
  blackhole: {
    name: `blackhole ${blackholeMs / 1000} s`,
    describe: 'packets dropped both ways; connections caught in it never speak again',
    setup: viaProxy,
    faultMs: blackholeMs,
    start: ({ proxy }) => proxy?.blackhole('drop'),
    end: ({ proxy }) => proxy?.pass(),
  },
  'idle-reset': {
    name: 'reset of idle connections',
    describe: 'traffic paused, every (idle) connection cut with a TCP RST, traffic resumed',
    setup: viaProxy,
    faultMs: 0,
    quiet: true,
    start: ({ proxy }) => proxy?.resetAll(),
    end: () => undefined,
  },
  reset: {
    name: 'reset all connections',
    describe: 'every open connection cut with a TCP RST',
    setup: viaProxy,
    faultMs: 0,
    start: ({ proxy }) => proxy?.resetAll(),
    end: () => undefined,
  },
  terminate: {
    name: 'pg_terminate_backend',
    describe: "every backend of the pool terminated by the server's admin function",
    setup: viaProxy,
    faultMs: 0,
    start: async ({ admin, applicationName }) => {
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
    },
    end: () => undefined,
  },
  kill: {
    name: 'kill -9 and restart',
    describe: 'the server killed with SIGKILL, restarted 2 s later (crash recovery)',
    setup: async () => {
      const cluster = await TempPostgres.start();
      return { url: cluster.url, adminUrl: cluster.url, proxy: undefined, cluster };
    },
    faultMs: 2000,
    start: ({ cluster }) => cluster?.kill9(),
    end: ({ cluster }) => cluster?.restart(),
  },
};

async function runOne(scenario: Scenario, env: Awaited<ReturnType<Scenario['setup']>>, name: TargetName): Promise<Row> {
  const tag = `${name.replace(/[^a-z]/g, '')}_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;
  const applicationName = name === 'spillway' ? `spillway:f_${tag}` : `bench_f_${tag}`;
  const table = `fault_bench_${tag}`;
  let admin = await adminClient(env.adminUrl);
  await admin.query(`CREATE TABLE ${table} (id integer PRIMARY KEY)`);
  const target = makeTarget(name, env.url, table, applicationName);
  crashes = 0;
  const result = await runLoad(target, {
    callers: 20,
    warmupMs: 1000,
    startFault: () => scenario.start({ proxy: env.proxy, cluster: env.cluster, admin, applicationName }),
    faultMs: scenario.faultMs,
    endFault: () => scenario.end({ proxy: env.proxy, cluster: env.cluster }),
    afterMs: 5000,
    hangGraceMs: 15_000,
    quietFault: scenario.quiet === true,
  });
  const closeHung = !(await within(target.close(), 10_000));
  if (env.cluster !== undefined) {
    await admin.end().catch(() => undefined); // the admin connection died with the server
    admin = await adminClient(env.adminUrl);
  }
  const leaked = await serverConnections(admin, applicationName, 3000);
  const lost = (await lostWrites(admin, table, result.acked)).length;
  const row: Row = { target: name, result, leaked, lost, crashes, closeHung };
  // Clean up whatever the pool left behind, so the next contender starts from a clean server.
  env.proxy?.resetAll();
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  await admin.query(`DROP TABLE IF EXISTS ${table}`);
  await admin.end();
  return row;
}

function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code} ${n}`).join(', ');
}

function printTable(scenario: Scenario, rows: Row[]): void {
  console.log(`\n### ${scenario.name}: ${scenario.describe}\n`);
  console.log(
    '| pool | longest call | never returned | errors by code | errors of calls begun after the fault | recovery after the fault | leaked connections | lost writes | crashes |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const { target, result, leaked, lost, crashes: crashed, closeHung } of rows) {
    const longest = `${(result.longestMs / 1000).toFixed(2)} s${result.hung > 0 ? ' (still waiting)' : ''}`;
    const recovery = result.recoverMs === undefined ? 'never' : `${(result.recoverMs / 1000).toFixed(2)} s`;
    console.log(
      `| ${target} | ${longest} | ${result.hung} | ${formatErrors(result.errors)} | ${result.failuresAfterFault} | ${recovery} | ${leaked}${closeHung ? ' (close() hung)' : ''} | ${lost} of ${result.acked.length} | ${crashed} |`,
    );
  }
}

console.log(`# Fault benchmark\n\n${machineLine()}`);
console.log(
  `Spillway: size ${SIZE}, overflow 0, checkout/statement/connect timeouts 5 s (bound ${SPILLWAY_BOUND_MS / 1000} s), breaker recovery 1 s.`,
);
console.log(`Peers: pool of ${SIZE}, their defaults (pg-timeout: pg.Pool with query_timeout 5000).`);
for (const key of args.scenarios.split(',')) {
  const scenario = SCENARIOS[key];
  if (scenario === undefined) throw new Error(`unknown scenario ${key}`);
  const env = await scenario.setup();
  const rows: Row[] = [];
  try {
    for (const name of targetNames) {
      const started = performance.now();
      rows.push(await runOne(scenario, env, name));
      process.stderr.write(`${scenario.name} / ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await env.proxy?.close();
    await env.cluster?.stop();
  }
  printTable(scenario, rows);
}
process.exit(0); // peers' hung calls and sockets would keep the process alive
