import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli-process.js';
import { MYSQL_URL, POSTGRES_URL, requireServer } from '../support/databases.js';
import { freeLoopbackPort } from '../support/ports.js';

const COMMANDS = ['serve', 'status', 'doctor', 'load', 'bench'];

test('cli: --help for the tool and every command, exit 0', async () => {
  const top = await runCli(['--help']);
  assert.equal(top.code, 0);
  for (const command of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
  for (const command of COMMANDS) {
    const help = await runCli([command, '--help']);
    assert.equal(help.code, 0, `${command} --help`);
    assert.match(help.stdout, new RegExp(`^Usage: spillway ${command}`));
  }
});

test('cli: unknown commands, unknown flags and bad values are one line and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /^spillway: unknown command "frobnicate"; accepted: serve, status, doctor, load, bench$/],
    [['status', '--colour'], /^spillway status: Unknown option '--colour'; see spillway status --help$/],
    [['load', '--concurrency', 'many'], /^spillway load: --concurrency=many is invalid; accepted: a whole number from 1 to 10000$/],
    [['load', '--duration', '-3'], /^spillway load: /],
    [['load', '--service', 'ftp://x'], /^spillway load: --service=ftp:\/\/x must start with http:\/\/ or https:\/\/$/],
    [['doctor', '--url', POSTGRES_URL, '--pods', '0'], /^spillway doctor: --pods=0 is invalid; accepted: a whole number >= 1$/],
    [['serve', '--port', '70000'], /^spillway serve: --port=70000 is invalid; accepted: a whole number from 0 to 65535$/],
    [['status', '--url', POSTGRES_URL, '--service', 'http://127.0.0.1:1'], /^spillway status: give --url or --service, not both$/],
    [['bench', '--dir', '/nonexistent-spillway'], /^spillway bench: no suites/],
    // A negative number is a value, checked like any other (parseArgs alone calls it "ambiguous").
    [['load', '--concurrency', '-1'], /^spillway load: --concurrency=-1 is invalid; accepted: a whole number from 1 to 10000$/],
    [['load', '--duration', '-0.5'], /^spillway load: --duration=-0\.5 is invalid; accepted: seconds > 0/],
    [['serve', '--port', '-1'], /^spillway serve: --port=-1 is invalid; accepted: a whole number from 0 to 65535$/],
    [['doctor', '--url', POSTGRES_URL, '--pods', '-2'], /^spillway doctor: --pods=-2 is invalid; accepted: a whole number >= 1$/],
    [['bench', '--timeout', '-5'], /^spillway bench: --timeout=-5 is invalid; accepted: a whole number from 1 to 86400$/],
    [['status', '--url', '-x'], /^spillway status: --url needs a value; write --url=VALUE for one that starts with a dash$/],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(args, { DATABASE_URL: undefined });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0]!, expected);
  }
});

test('cli: status --url shows the pool and its health, as a table and as JSON', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const table = await runCli(['status', '--url', POSTGRES_URL]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^pool\s+value$/m);
  assert.match(table.stdout, /^status\s+(healthy|degraded)$/m); // degraded when this busy machine is slow
  const json = await runCli(['status', '--url', POSTGRES_URL, '--json']);
  const body = JSON.parse(json.stdout);
  assert.equal(body.pool.size, 10);
  assert.match(body.health.status, /^(healthy|degraded)$/);
  assert.equal(body.health.dialect, 'postgres');
});

test('cli: status --url exits 1 when the database is unreachable or refuses the password', async (t) => {
  const port = await freeLoopbackPort(); // nothing listens there
  const unreachable = await runCli(['status', '--url', `postgres://app@127.0.0.1:${port}/app`], { DB_CONNECT_TIMEOUT: '2' });
  assert.equal(unreachable.code, 1, unreachable.stdout + unreachable.stderr);
  assert.match(unreachable.stderr, /^spillway status: the health check failed: .*ECONNREFUSED/m);
  assert.match(unreachable.stdout, /^error\s+.*ECONNREFUSED/m, 'the table still shows what was found');

  if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
  // The shared MariaDB's root has no password: giving one is refused at authentication.
  const refused = new URL(MYSQL_URL);
  refused.password = 'not-the-password';
  const wrongPassword = await runCli(['status', '--url', refused.toString(), '--json']);
  assert.equal(wrongPassword.code, 1, wrongPassword.stdout + wrongPassword.stderr);
  assert.match(JSON.parse(wrongPassword.stdout).unreachable, /Access denied/);
  assert.doesNotMatch(wrongPassword.stdout + wrongPassword.stderr, /not-the-password/);
});

test('cli: doctor reads max_connections from PostgreSQL and fails on a budget that cannot fit', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const ok = await runCli(['doctor', '--url', POSTGRES_URL, '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const { findings } = JSON.parse(ok.stdout) as { findings: { severity: string; check: string; message: string }[] };
  assert.match(findings.find((f) => f.check === 'max_connections')!.message, /server allows \d+ connections .* \d+ in use now/);
  assert.equal(findings.find((f) => f.check === 'tls')!.severity, 'ok');
  assert.equal(findings.find((f) => f.check === 'pooler')!.severity, 'ok');

  const tooMany = await runCli(['doctor', '--url', POSTGRES_URL, '--pods', '1000']);
  assert.equal(tooMany.code, 1);
  assert.match(tooMany.stdout, /^critical\s+budget\s+size 10 \+ maxOverflow 10 = 20 per pod x 1000 pod\(s\) = 20000 exceeds/m);
});

test('cli: doctor on MariaDB reads max_connections and Threads_connected; on SQLite it has no server budget', async (t) => {
  if (!(await requireServer(t, MYSQL_URL, 'mysql'))) return;
  const mysql = await runCli(['doctor', '--url', MYSQL_URL, '--json']);
  assert.equal(mysql.code, 0, mysql.stdout + mysql.stderr);
  const found = JSON.parse(mysql.stdout).findings as { severity: string; check: string; message: string }[];
  assert.match(found.find((f) => f.check === 'server')!.message, /^mysql .*MariaDB/);
  assert.match(found.find((f) => f.check === 'max_connections')!.message, /server allows \d+ connections .* [1-9]\d* in use now/);
  assert.equal(found.find((f) => f.check === 'budget')!.severity, 'ok');

  const dir = mkdtempSync(join(tmpdir(), 'spillway-doctor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sqlite = await runCli(['doctor', '--url', `sqlite:${join(dir, 'app.db')}`]);
  assert.equal(sqlite.code, 0, sqlite.stderr);
  assert.match(sqlite.stdout, /^info\s+budget\s+SQLite has no connection limit/m);
  assert.doesNotMatch(sqlite.stdout, /journal_mode/, 'WAL is on by default');
});

test('cli: doctor sees a proxy or pooler in front of PostgreSQL (the server listens on another port)', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  // A plain TCP relay on loopback stands in for PgBouncer here: what the doctor detects is that
  // the port dialled is not the port the server reports (inet_server_port()).
  const target = new URL(POSTGRES_URL);
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    relay.close();
  });
  const url = new URL(POSTGRES_URL);
  url.port = String((relay.address() as net.AddressInfo).port);
  const result = await runCli(['doctor', '--url', url.toString(), '--json']);
  const { findings } = JSON.parse(result.stdout) as { findings: { severity: string; check: string; message: string }[] };
  const pooler = findings.find((f) => f.check === 'pooler')!;
  assert.equal(pooler.severity, 'warning');
  assert.match(pooler.message, /server listens on 5432: a pooler or proxy sits in front; .*\?pgbouncer=true/);
});

test('cli: bench runs the suites, writes its section of RESULTS.md (keeping the others) and an SVG chart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'select.ts'),
    [
      "const line = (subject: string, value: number) => console.log('BENCH ' + JSON.stringify({ case: 'SELECT 1, 10 callers', subject, value, unit: 'queries/s' }));",
      "line('spillway', 1200);",
      "console.log('BENCH-PROGRESS 0.5');",
      "line('pg.Pool', 1000);",
      "console.log('a human-readable table the suite prints for itself');",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'broken.ts'), "console.error('cannot reach the database'); process.exit(3);");
  writeFileSync(join(dir, '_helper.ts'), 'throw new Error("helpers are not suites");');
  writeFileSync(join(dir, 'support.ts'), 'export const helper = 1; // imported by a suite, so not a suite itself');
  writeFileSync(
    join(dir, 'overhead.ts'),
    [
      "import { parseArgs } from 'node:util';",
      "import { helper } from './support.js';",
      "const { values } = parseArgs({ options: { json: { type: 'boolean' } } });",
      "if (values.json) console.log(JSON.stringify({ bench: 'overhead', unit: 'ns/op', table: { spillway: { 10: 90 * helper }, tarn: { 10: 180 } } }));",
      "else console.log('| pool | ns/op |');",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'tables.ts'), "console.log('| pool | q/s |'); console.log('|---|---:|'); console.log('| spillway | 5 |');");
  writeFileSync(join(dir, 'RESULTS.md'), '# Benchmark results\n\n## Batch\nhand-written figures\n');

  const list = await runCli(['bench', '--dir', dir, '--list']);
  assert.deepEqual(
    list.stdout.trim().split('\n'),
    ['broken.ts', 'overhead.ts', 'select.ts', 'tables.ts'].map((f) => join(dir, f)),
  );

  const result = await runCli(['bench', '--dir', dir], {}, 120_000);
  assert.equal(result.code, 1, 'a failed suite makes the run fail');
  const md = readFileSync(join(dir, 'RESULTS.md'), 'utf8');
  assert.match(md, /## Batch\nhand-written figures/);
  assert.match(md, /\| SELECT 1, 10 callers \| queries\/s \| 1,200 \| 1,000 \| 1\.20x \|/);
  assert.match(md, /### broken[\s\S]*Failed \(exit 3\): cannot reach the database/);
  assert.match(md, /\| overhead @10 \| ns\/op \(lower is better\) \| 90\.0 \| 180 \| 2\.00x \|/, 'a suite with --json is run with it');
  assert.match(md, /### tables[\s\S]*\| pool \| q\/s \|\n\|---\|---:\|\n\| spillway \| 5 \|/, 'plain markdown tables are kept');
  assert.match(md, /!\[comparison with the peers\]\(results\.svg\)/);
  const svg = readFileSync(join(dir, 'results.svg'), 'utf8');
  assert.match(svg, /^<svg /);
  assert.match(svg, /pg\.Pool/);
});
