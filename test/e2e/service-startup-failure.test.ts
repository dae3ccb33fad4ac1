import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { runCli } from '../support/cli-process.js';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('an unreachable database ends, after the init retries, in one line naming it (password hidden) and exit 1', async () => {
  const port = await closedPort();
  const result = await runCli(['serve', '--port', '0'], {
    DATABASE_URL: `postgres://app:s3cret-pw@127.0.0.1:${port}/app`,
    DB_POOL_INIT_TIMEOUT: '1',
    DB_CONNECT_TIMEOUT: '1',
  });
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, new RegExp(`^spillway serve: .*postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/app`));
  assert.match(lines[0]!, /ECONNREFUSED|refused/i);
  assert.doesNotMatch(result.stderr + result.stdout, /s3cret-pw/);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
});

test('a malformed DATABASE_URL is one CONFIG_INVALID line and exit 1, before anything connects', async () => {
  const result = await runCli(['serve', '--port', '0'], { DATABASE_URL: 'postgress://app:s3cret-pw@db/app' });
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^spillway serve: DATABASE_URL=.*unknown scheme.*\(CONFIG_INVALID\)$/);
  assert.doesNotMatch(result.stderr, /s3cret-pw/);
});

test('a SQLite path that cannot be created fails at once in one CONFIG_INVALID line, never spinning or retrying', async (t) => {
  // Under /proc, mkdir answers ENOENT for a child of an existing folder: Node's recursive mkdir used
  // to loop on that forever at full CPU, before the init timeout could fire. runCli kills the child
  // (and fails the test) if it does not finish. /dev/null/x.db (ENOTDIR) used to be retried for the
  // whole DB_POOL_INIT_TIMEOUT: with 600 s here, only an immediate failure passes.
  const paths = ['/dev/null/x.db'];
  if (existsSync('/proc/self')) paths.push('/proc/spillway-nope/x.db');
  else t.diagnostic('no /proc on this system: only /dev/null/x.db is tried');
  for (const path of paths) {
    const result = await runCli(['serve', '--port', '0'], { DATABASE_URL: `sqlite:${path}`, DB_POOL_INIT_TIMEOUT: '600' }, 30_000);
    assert.equal(result.code, 1, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0]!,
      new RegExp(`^spillway serve: cannot prepare the database sqlite:${path}: .*cannot be created or opened \\((ENOENT|ENOTDIR)`),
    );
    assert.match(lines[0]!, /\(CONFIG_INVALID\)$/);
  }
});
