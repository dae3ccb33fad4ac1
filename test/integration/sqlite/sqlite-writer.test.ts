import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPool } from '../../../src/create-pool.js';
import type { Database } from '../../../src/database.js';
import { SpillwayError } from '../../../src/errors.js';

/** Counts event-loop turns while `promise` is pending: proof that waiting did not block the loop. */
async function loopTurnsWhile<T>(promise: Promise<T>): Promise<{ result: T | unknown; turns: number }> {
  let turns = 0;
  const timer = setInterval(() => turns++, 5);
  try {
    const result = await promise.catch((e: unknown) => e);
    return { result, turns };
  } finally {
    clearInterval(timer);
  }
}

describe('sqlite: one writer, parallel readers', () => {
  let dir = '';
  let db: Database;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spillway-sqlite-writer-'));
    db = createPool({ url: `sqlite:${join(dir, 'app.db')}`, size: 3, checkoutTimeoutMs: 150, env: {} });
    await db.query('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
  });
  after(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a write outside a transaction wait in the pool queue, not in a busy loop, and time out there', async () => {
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = db.transaction(async (t) => {
      await t.query("INSERT INTO items (name) VALUES ('in tx')");
      await holding;
    });
    await new Promise((r) => setTimeout(r, 20));
    const { result, turns } = await loopTurnsWhile(db.query("INSERT INTO items (name) VALUES ('outside')"));
    assert.ok(result instanceof SpillwayError);
    assert.equal(result.code, 'POOL_TIMEOUT', 'the write waited for the writer with the checkout timeout');
    assert.match(result.message, /:writer/);
    assert.ok(turns > 3, `the event loop kept turning while the write waited (${turns} turns)`);
    release();
    await tx;
    await db.query("DELETE FROM items WHERE name = 'in tx'");
  });

  it('runs a queued write after the transaction commits, in order', async () => {
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = db.transaction(async (t) => {
      await t.query("INSERT INTO items (name) VALUES ('first')");
      await holding;
    });
    await new Promise((r) => setTimeout(r, 20));
    const queued = db.query("INSERT INTO items (name) VALUES ('second')", [], {});
    await new Promise((r) => setTimeout(r, 20));
    release();
    await Promise.all([tx, queued]);
    const { rows } = await db.query<{ name: string }>("SELECT name FROM items WHERE name IN ('first', 'second') ORDER BY id");
    assert.deepEqual(
      rows.map((r) => r.name),
      ['first', 'second'],
    );
    await db.query("DELETE FROM items WHERE name IN ('first', 'second')");
  });

  it('serves reads from reader connections while a write transaction is open, seeing committed data', async () => {
    await db.query("INSERT INTO items (name) VALUES ('committed')");
    let release!: () => void;
    const holding = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tx = db.transaction(async (t) => {
      await t.query("INSERT INTO items (name) VALUES ('uncommitted')");
      await holding;
    });
    await new Promise((r) => setTimeout(r, 20));
    const reads = await Promise.all(Array.from({ length: 6 }, () => db.query<{ n: number }>('SELECT count(*) AS n FROM items')));
    for (const read of reads) assert.equal(read.rows[0]?.n, 1, 'readers see the last committed state and did not wait');
    release();
    await tx;
    assert.equal((await db.query<{ n: number }>('SELECT count(*) AS n FROM items')).rows[0]?.n, 2);
    await db.query('DELETE FROM items');
  });

  it('runs a plain read on the reader just returned, so concurrent callers keep one warm connection', async () => {
    const readers = new Set<number>();
    const onCheckout = ({ connectionId }: { connectionId: number }) => readers.add(connectionId);
    db.on('checkout', onCheckout);
    try {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = 0; i < 25; i++) await db.query('SELECT count(*) AS n FROM items');
        }),
      );
    } finally {
      db.off('checkout', onCheckout);
    }
    assert.equal(readers.size, 1, `100 reads by 4 callers used readers ${[...readers].join(', ')}`);
    // A reader held across awaits is not lent meanwhile: a read then takes another one.
    const lent: number[] = [];
    const onLent = ({ connectionId }: { connectionId: number }) => lent.push(connectionId);
    db.on('checkout', onLent);
    try {
      await db.withConnection(
        async (held) => {
          await held.query('SELECT 1');
          await db.query('SELECT 1');
        },
        { readOnly: true },
      );
    } finally {
      db.off('checkout', onLent);
    }
    assert.equal(lent.length, 2);
    assert.notEqual(lent[1], lent[0], 'the held reader was not lent to the plain read');
  });

  it('refuses a write on a reader connection instead of taking the write lock', async () => {
    await db.withConnection(
      async (conn) => {
        await assert.rejects(
          conn.query("INSERT INTO items (name) VALUES ('no')"),
          (e: unknown) => (e as { code?: string }).code === 'SQLITE_READONLY',
        );
      },
      { readOnly: true },
    );
  });
});

describe('sqlite::memory:', () => {
  it('is one shared connection: what one call creates, the next sees', async () => {
    const db = createPool({ url: 'sqlite::memory:', size: 5, env: {} });
    try {
      await db.query('CREATE TABLE t (v INTEGER)');
      await Promise.all([1, 2, 3].map((v) => db.transaction(async (tx) => void (await tx.query('INSERT INTO t (v) VALUES (?)', [v])))));
      assert.equal((await db.query<{ n: number }>('SELECT count(*) AS n FROM t')).rows[0]?.n, 3);
      assert.equal(db.status().max, 1);
      assert.equal(db.stats().created, 1);
      assert.equal(db.writerPool, undefined);
    } finally {
      await db.close();
    }
  });
});
