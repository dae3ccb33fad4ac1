import { createPool, sql } from './src/index.js';
const db = createPool({ url: 'postgres://postgres@127.0.0.1:5432/test', name: 'dbg', size: 3, maxOverflow: 2, env: {} });
db.on('invalidate', (e) => console.log('invalidate', e.reason, (e.error as Error)?.message, new Error().stack?.split('\n').slice(2, 8).join('\n')));
await db.query(`CREATE TABLE dbg_t (id serial PRIMARY KEY, label text NOT NULL UNIQUE, n int)`);
await db.query(sql`SELECT ${'x'}::text AS v`);
await db.transaction(async (tx) => { await tx.query(sql`INSERT INTO dbg_t (label, n) VALUES (${'a'}, ${1})`); });
console.log(db.status().checkedOut, db.stats().invalidated);
await db.query(`DROP TABLE dbg_t`);
await db.close();
