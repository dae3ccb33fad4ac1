import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import pg from 'pg';
import {
  clientFlags,
  hasActiveQuery,
  inRange,
  loadProtocol,
  pgLayoutSupported,
  pgVersionCheck,
} from '../../src/dialect/postgres/pg-internals.js';

const PINNED = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { spillway: { pgInternals: string } })
  .spillway.pgInternals;

// Spillway reaches into pg's private parts through src/dialect/postgres/pg-internals.ts alone. These
// tests fail loudly when the installed pg leaves the verified range or changes the shape relied on:
// then pg-internals.ts (and the range in package.json) must be revisited before anything else.
test('the installed pg is inside the range its private layout was verified on (package.json spillway.pgInternals)', () => {
  const check = pgVersionCheck();
  assert.equal(check.range, PINNED);
  assert.ok(
    check.supported,
    `pg ${check.version} is outside ${PINNED}: re-check every access in pg-internals.ts against it, then widen the range`,
  );
  assert.equal(pgLayoutSupported, true);
});

test("pg's Client and Connection still have the private fields and methods Spillway reads", () => {
  const client = new pg.Client({ host: '127.0.0.1', user: 'nobody', database: 'none' });
  const c = client as unknown as Record<string, unknown> & { connection: Record<string, unknown> };
  assert.equal(typeof c._queryable, 'boolean', '_queryable');
  assert.equal(typeof c._ending, 'boolean', '_ending');
  assert.equal(typeof c._getActiveQuery, 'function', '_getActiveQuery');
  assert.ok(Array.isArray(c._queryQueue), '_queryQueue');
  assert.equal(typeof c.connection.attachListeners, 'function', 'Connection#attachListeners');
  assert.equal(typeof c.connection._emitMessage, 'boolean', 'Connection#_emitMessage');
  assert.equal(typeof (c.connection.stream as { destroy?: unknown })?.destroy, 'function', 'Connection#stream.destroy');
  assert.deepEqual(clientFlags(client), { queryable: true, ending: false });
  assert.equal(hasActiveQuery(client), false);
  client.query('SELECT 1').catch(() => undefined); // queued, never sent (no connect)
  assert.equal(hasActiveQuery(client), true, 'a queued statement counts as active');
});

test("pg-protocol's dist/parser and dist/messages still parse a DataRow the way the row parser extends", () => {
  const protocol = loadProtocol();
  assert.ok(protocol, 'pg-protocol/dist/parser and dist/messages load from pg');
  // One DataRow: 'D', length, 2 fields: 'ab' and NULL.
  const body = Buffer.from([0, 2, 0, 0, 0, 2, 0x61, 0x62, 0xff, 0xff, 0xff, 0xff]);
  const header = Buffer.alloc(5);
  header.write('D', 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  const messages: unknown[] = [];
  new protocol.Parser().parse(Buffer.concat([header, body]), (message) => messages.push(message));
  assert.equal(messages.length, 1);
  const row = messages[0] as { name?: string; fields?: unknown[] };
  assert.equal(row.name, 'dataRow');
  assert.deepEqual(row.fields, ['ab', null]);
  assert.ok(new protocol.DataRowMessage(4, []) instanceof Object);
});

test('the pinned range is read as written: >=A.B.C <D', () => {
  assert.equal(inRange('8.23.1', '>=8.23.0 <9'), true);
  assert.equal(inRange('8.23.0', '>=8.23.0 <9'), true);
  assert.equal(inRange('8.22.9', '>=8.23.0 <9'), false);
  assert.equal(inRange('9.0.0', '>=8.23.0 <9'), false);
  assert.equal(inRange('8.30.0', '>=8.23.0 <9'), true);
  assert.equal(inRange('8.23.1', '^8'), false, 'a form not understood is not supported');
});
