import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
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

  it('fails with one clear error naming the path when the file cannot be opened', async () => {
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
      assert.equal(error.code, 'CONNECTION_LOST');
      assert.match(error.message, /Cannot open SQLite database/);
      assert.ok(error.message.includes(join(blocker, 'app.db')));
      assert.equal(errors.length, 1, 'one failure, reported once');
    } finally {
      await db.close();
    }
  });
});
