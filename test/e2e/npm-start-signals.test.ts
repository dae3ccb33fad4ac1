import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { descendants, isRunning } from '../support/process-tree.js';
import { createScratchDatabase } from '../support/scratch-database.js';

/**
 * `npm start` as a container runs it (`CMD npm start`; `docker stop` sends SIGTERM to npm, PID 1)
 * and as a developer runs it (Ctrl-C signals the terminal's whole process group). The signal must
 * reach the server and run its graceful shutdown, and nothing may be left running. And start must
 * not build: `prepare` built once at install.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STAMP = `${ROOT}dist/.build-stamp`;

interface NpmStart {
  npm: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmStart(t: TestContext, env: Record<string, string>, detached = false): Promise<NpmStart> {
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DB_HEALTH_CHECK_INTERVAL: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // Whatever happens, nothing this test started outlives it (killed by pid, never by name).
  const started = new Set<number>();
  const remember = () => {
    if (npm.pid !== undefined) for (const pid of [npm.pid, ...descendants(npm.pid)]) started.add(pid);
  };
  t.after(() => {
    for (const pid of started) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const onData = (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        npm.stdout?.off('data', onData);
        npm.stdout?.on('data', (more: string) => {
          output += more;
        });
        remember();
        resolve({ npm, url: match[1]!, output: () => output, exited });
      }
    };
    npm.stdout?.setEncoding('utf8').on('data', onData);
    npm.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    exited.then(({ code }) => reject(new Error(`npm start exited (${code}) before listening:\n${output}`)));
  });
}

async function waitFor(what: string, condition: () => Promise<boolean> | boolean, giveUpMs = 30_000): Promise<void> {
  // A bound for a failing test only; the assertions are about order and outcome.
  const giveUpAt = Date.now() + giveUpMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start', () => {
  it('SIGTERM to the npm process drains the server: /ready 503, the in-flight request finishes, exit 0, no orphan; and start does not build', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const state = spawnSync(process.execPath, ['scripts/ensure-built.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    assert.equal(state, 'fresh', 'run `npm run build` first (npm test does)');
    const builtAt = statSync(STAMP).mtimeMs;
    const database = await createScratchDatabase(POSTGRES_URL);
    t.after(() => database.drop());

    const started = await npmStart(t, {
      DATABASE_URL: database.url,
      SHUTDOWN_DELAY: '2', // /ready answers 503 this long before the listener closes
      SHUTDOWN_GRACE: '30',
      DB_LOCK_TIMEOUT: '60',
    });
    const server = descendants(started.npm.pid!);
    assert.ok(server.length > 0, 'npm started the server');
    assert.equal(statSync(STAMP).mtimeMs, builtAt, 'npm start did not rebuild (prepare built at install)');

    // An in-flight request: it waits on a table lock another client holds.
    const locker = new pg.Client({ connectionString: database.url });
    locker.on('error', () => undefined); // the scratch database is dropped WITH (FORCE) at the end
    await locker.connect();
    t.after(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const inFlight = fetch(`${started.url}/api/users/alice_smith`);
    await waitFor('the request waits on the lock', async () => {
      const { rows } = await locker.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      return rows[0].n > 0;
    });

    let npmExited = false;
    void started.exited.then(() => {
      npmExited = true;
    });
    process.kill(started.npm.pid!, 'SIGTERM');
    await waitFor('/ready answers 503', async () => {
      assert.equal(npmExited, false, `npm exited while the server still served, not draining:\n${started.output()}`);
      return (await fetch(`${started.url}/ready`)).status === 503;
    });
    assert.equal(npmExited, false, 'the server is still draining');

    await locker.query('ROLLBACK');
    const response = await inFlight;
    assert.equal(response.status, 200, 'the in-flight request finished');
    assert.equal(((await response.json()) as { username: string }).username, 'alice_smith');

    assert.deepEqual(await started.exited, { code: 0, signal: null });
    assert.match(started.output(), /SIGTERM, draining[\s\S]*stopped/);
    for (const pid of server) assert.equal(isRunning(pid), false, `process ${pid} under npm start is still running`);
    await assert.rejects(fetch(`${started.url}/health`), 'nothing listens any more');
  });

  it('Ctrl-C (SIGINT to the whole process group, and npm forwards a second copy) drains once and exits 0', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const database = await createScratchDatabase(POSTGRES_URL);
    t.after(() => database.drop());
    // detached: its own process group, as a terminal gives a foreground job.
    const started = await npmStart(t, { DATABASE_URL: database.url, SHUTDOWN_DELAY: '1' }, true);
    const server = descendants(started.npm.pid!);
    assert.equal((await fetch(`${started.url}/ready`)).status, 200);

    process.kill(-started.npm.pid!, 'SIGINT');
    // npm forwards its own copy of the signal to the server; on a busy machine that copy can arrive
    // after the drain began. Send it late on purpose: the server must not die of it mid-drain.
    await waitFor('the drain began', () => started.output().includes('draining'));
    for (const pid of server) if (isRunning(pid)) process.kill(pid, 'SIGINT');
    const exit = await started.exited;
    assert.equal(exit.code, 0, started.output());
    assert.match(started.output(), /SIGINT, draining[\s\S]*stopped/);
    assert.equal(started.output().match(/draining/g)?.length, 1, 'one drain, however many signals');
    for (const pid of server) assert.equal(isRunning(pid), false, `process ${pid} under npm start is still running`);
  });
});
