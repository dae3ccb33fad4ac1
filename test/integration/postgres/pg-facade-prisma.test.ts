// Prisma ORM 7 through its driver adapter (@prisma/adapter-pg) given a spillway/pg Pool, against the
// real PostgreSQL. Prisma 7's client runs on the adapter with no query engine binary; only the CLI's
// `generate` looks for a schema engine it does not use, so it is pointed at an empty file
// (PRISMA_SCHEMA_ENGINE_BINARY) and nothing is downloaded. The client is generated into the repo's
// ignored tmp/ for this run (its imports resolve from the project's node_modules) and removed after.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import { Pool } from '../../../src/pg.js';
import { POSTGRES_URL, requireServer, uniqueName } from '../../support/databases.js';
import { adminQuery, expectNoServerConnections } from '../../support/postgres-activity.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const workDir = join(repo, 'tmp', uniqueName('prisma'));
const table = uniqueName('prisma_accounts');

interface Account {
  id: number;
  name: string;
  balance: number;
}
/** The slice of the generated client this test uses (its own types live in the generated code). */
interface Prisma {
  account: {
    create(args: { data: Omit<Account, 'id'> }): Promise<Account>;
    findMany(args?: { orderBy?: { id: 'asc' } }): Promise<Account[]>;
    findUniqueOrThrow(args: { where: { id: number } }): Promise<Account>;
    update(args: { where: { id: number }; data: { balance: { increment: number } } }): Promise<Account>;
    count(): Promise<number>;
  };
  $transaction<T>(fn: (tx: Prisma) => Promise<T>): Promise<T>;
  $queryRawUnsafe<T>(query: string, ...values: unknown[]): Promise<T>;
  $disconnect(): Promise<void>;
}
type PrismaClientClass = new (options: { adapter: unknown }) => Prisma;

/** Generate the Prisma client for one model mapped to `table`; returns the module's URL. */
function generateClient(): string {
  mkdirSync(workDir, { recursive: true });
  const schema = join(workDir, 'schema.prisma');
  writeFileSync(
    schema,
    `generator client {
  provider     = "prisma-client"
  output       = "./generated"
  moduleFormat = "esm"
}

datasource db {
  provider = "postgresql"
}

model Account {
  id      Int    @id @default(autoincrement())
  name    String
  balance Int

  @@map("${table}")
}
`,
  );
  const noEngine = join(workDir, 'no-schema-engine');
  writeFileSync(noEngine, '');
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  const run = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], {
    cwd: workDir,
    encoding: 'utf8',
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: noEngine, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `prisma generate failed:\n${run.stdout}\n${run.stderr}`);
  return pathToFileURL(join(workDir, 'generated', 'client.ts')).href;
}

describe('Prisma on spillway/pg Pool (@prisma/adapter-pg)', () => {
  let clientModule = '';
  before(() => {
    clientModule = generateClient();
  });
  after(async () => {
    rmSync(workDir, { recursive: true, force: true });
    await adminQuery(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
  });

  it('PrismaPg(pool) uses the facade itself: queries, an interactive transaction on one client, rollback, load; nothing leaks', async (t) => {
    if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const { PrismaClient } = (await import(clientModule)) as { PrismaClient: PrismaClientClass };
    const name = uniqueName('prisma');
    const pool = new Pool({ connectionString: POSTGRES_URL, max: 4, name, application_name: `spillway:${name}` });
    await pool.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, name text NOT NULL, balance integer NOT NULL)`);

    const adapter = new PrismaPg(pool as unknown as pg.Pool);
    // The adapter keeps an external pool only when it is a pg.Pool; anything else it treats as a config
    // and builds a pg.Pool of its own, which would bypass Spillway entirely.
    assert.equal((adapter as unknown as { externalPool: unknown }).externalPool, pool);
    const prisma = new PrismaClient({ adapter });
    try {
      const checkoutsBefore = pool.spillway.stats().checkouts;
      const alice = await prisma.account.create({ data: { name: 'alice', balance: 100 } });
      const bob = await prisma.account.create({ data: { name: 'bob', balance: 0 } });
      assert.deepEqual(
        (await prisma.account.findMany({ orderBy: { id: 'asc' } })).map((a) => a.name),
        ['alice', 'bob'],
      );

      await prisma.$transaction(async (tx) => {
        await tx.account.update({ where: { id: alice.id }, data: { balance: { increment: -30 } } });
        await tx.account.update({ where: { id: bob.id }, data: { balance: { increment: 30 } } });
        assert.equal(pool.spillway.status().checkedOut, 1, 'the transaction holds one client');
      });
      await assert.rejects(
        prisma.$transaction(async (tx) => {
          await tx.account.update({ where: { id: alice.id }, data: { balance: { increment: -1000 } } });
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal((await prisma.account.findUniqueOrThrow({ where: { id: alice.id } })).balance, 70, 'rolled back');
      assert.equal((await prisma.account.findUniqueOrThrow({ where: { id: bob.id } })).balance, 30);

      const counts = await Promise.all(Array.from({ length: 40 }, () => prisma.account.count()));
      assert.ok(counts.every((n) => n === 2));
      const [raw] = await prisma.$queryRawUnsafe<{ n: number }[]>('SELECT $1::int AS n', 7);
      assert.equal(raw?.n, 7);

      assert.ok(pool.spillway.stats().checkouts - checkoutsBefore >= 45, 'every statement went through the facade');
      assert.ok(pool.totalCount <= 4);
      assert.equal(pool.spillway.status().checkedOut, 0);
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
    await expectNoServerConnections(name);
  });
});
