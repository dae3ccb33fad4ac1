import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { createPool } from '../../../src/create-pool.js';
import { SpillwayError } from '../../../src/errors.js';

describe('sqlite files and pragmas', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spillway-sqlite-files-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('creates the folder and the file, and applies the default pragmas to readers and the writer', async () => {
    const file = join(dir, 'nested', 'deeper', 'app.db');
    const db = createPool({ url: `sqlite:${file}`, lockTimeoutMs: 1234, env: {} });
    try {
      await db.query('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      assert.ok(existsSync(file));
      const read = async (pragma: string, readOnly: boolean) =>
        db.withConnection(async (conn) => Object.values((await conn.query(`PRAGMA ${pragma}`)).rows[0] as object)[0], { readOnly });
      for (const readOnly of [true, false]) {
        assert.equal(await read('journal_mode', readOnly), 'wal');
        assert.equal(await read('synchronous', readOnly), 1); // NORMAL
        assert.equal(await read('busy_timeout', readOnly), 1234);
        assert.equal(await read('foreign_keys', readOnly), 1);
        assert.equal(await read('temp_store', readOnly), 2); // MEMORY
        assert.equal(await read('cache_size', readOnly), -20000);
        assert.equal(await read('mmap_size', readOnly), 268435456);
        assert.equal(await read('query_only', readOnly), readOnly ? 1 : 0);
      }
    } finally {
      await db.close();
    }
  });

  it('lets dialectOptions.pragmas override or drop each pragma', async () => {
    const db = createPool({
      url: `sqlite:${join(dir, 'override.db')}`,
      dialectOptions: { pragmas: { synchronous: 'FULL', cache_size: -1000, foreign_keys: false, mmap_size: null } },
      env: {},
    });
    try {
      const value = async (pragma: string) => Object.values((await db.query(`PRAGMA ${pragma}`)).rows[0] as object)[0];
      assert.equal(await value('synchronous'), 2);
      assert.equal(await value('cache_size'), -1000);
      assert.equal(await value('foreign_keys'), 0);
      assert.equal(await value('mmap_size'), 0, 'a dropped pragma keeps SQLite’s own default');
    } finally {
      await db.close();
    }
  });

  it('rejects a pragma value that is not a plain word or number with CONFIG_INVALID', () => {
    assert.throws(
      () => createPool({ url: `sqlite:${join(dir, 'x.db')}`, dialectOptions: { pragmas: { synchronous: 'OFF; DROP TABLE t' } }, env: {} }),
      {
        code: 'CONFIG_INVALID',
      },
    );
  });

  it('fails with one clear CONFIG_INVALID naming the path when the folder cannot be created', async () => {
    const blocker = join(dir, 'not-a-folder');
    await writeFile(blocker, 'a file where a folder should be');
    const db = createPool({ url: `sqlite:${join(blocker, 'app.db')}`, checkoutTimeoutMs: 2000, env: {} });
    try {
      const errors: unknown[] = [];
      db.on('error', (e) => errors.push(e));
      const error = await db.query('SELECT 1').then(
        () => assert.fail('opening must fail'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof SpillwayError);
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /cannot be created or opened \(ENOTDIR/);
      assert.ok(error.message.includes(join(blocker, 'app.db')));
      assert.equal(errors.length, 1, 'one failure, reported once');
    } finally {
      await db.close();
    }
  });

  // Start-up retries what may pass (a server not up yet); a path that cannot hold a database never
  // will, so ready() and initDb() must fail at once with CONFIG_INVALID, not CONNECT_TIMEOUT after
  // initializationTimeoutMs of retries. (A /proc path, which used to spin forever inside Node's
  // recursive mkdir, is run in a child process by test/e2e/service-startup-failure.test.ts.)
  it('fails at start at once, without retries, for every path that cannot hold a database', async () => {
    const textFile = join(dir, 'text.db');
    await writeFile(textFile, 'plain text, long enough to be read as a header. '.repeat(4));
    const paths = [
      [join('/dev/null', 'x.db'), /ENOTDIR/],
      [dir, /is a directory/],
      [textFile, /is not a SQLite database/],
    ] as const;
    for (const [path, reason] of paths) {
      const db = createPool({ url: `sqlite:${path}`, initializationTimeoutMs: 60_000, env: {} });
      try {
        const attempts: unknown[] = [];
        db.on('error', (e) => attempts.push(e));
        const error = await db.ready().then(
          () => assert.fail(`${path} must not open`),
          (e: unknown) => e,
        );
        assert.ok(error instanceof SpillwayError, String(error));
        assert.equal(error.code, 'CONFIG_INVALID', `${path}: ${error.message}`);
        assert.match(error.message, reason);
        assert.equal(attempts.length, 1, `${path}: one attempt, no retries`);
      } finally {
        await db.close();
      }
    }
  });

  it('still retries a failure that may pass: a lock held by another connection at open', async () => {
    const file = join(dir, 'locked.db');
    const locker = new BetterSqlite3(file);
    locker.pragma('journal_mode = DELETE');
    locker.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    // Switching the file to WAL needs the exclusive lock this transaction holds: SQLITE_BUSY.
    locker.exec('BEGIN EXCLUSIVE');
    const db = createPool({ url: `sqlite:${file}`, lockTimeoutMs: 20, initializationTimeoutMs: 60_000, env: {} });
    try {
      const attempts: unknown[] = [];
      db.on('error', (e) => {
        attempts.push(e);
        if (locker.inTransaction) locker.exec('COMMIT'); // the lock goes after the first failure
      });
      await db.ready();
      assert.ok(attempts.length >= 1, 'the first attempt met the lock');
      const first = attempts[0] as SpillwayError;
      assert.equal(first.code, 'CONNECTION_LOST', first.message);
      assert.match(first.message, /locked|busy/i);
    } finally {
      locker.close();
      await db.close();
    }
  });
});
