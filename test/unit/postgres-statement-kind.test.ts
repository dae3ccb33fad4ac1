import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsSession, redactStatement, runsAlone } from '../../src/dialect/postgres/postgres-statement-kind.js';

describe('PostgreSQL statement kinds for the multiplexer', () => {
  it('runs writes, data-modifying WITH and locking reads alone, and lets plain reads be measured', () => {
    for (const text of [
      'INSERT INTO t VALUES ($1)',
      '  update t set n = n + 1 where id = $1',
      'DELETE FROM t',
      'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
      'WITH moved AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM moved',
      'SELECT * FROM t WHERE id = $1 FOR UPDATE',
      'SELECT * FROM t WHERE id = $1 for no key update skip locked',
      'SELECT * FROM t FOR SHARE',
      'SELECT pg_advisory_xact_lock($1)',
      'CREATE INDEX i ON t (n)',
      'CALL refresh_totals()',
    ])
      assert.equal(runsAlone(text), true, text);
    for (const text of [
      'SELECT 1',
      'SELECT id, name FROM t WHERE id = $1',
      'WITH recent AS (SELECT * FROM t ORDER BY id DESC LIMIT 10) SELECT count(*) FROM recent',
      'SELECT pg_sleep(0.3)',
      "SELECT 'update' AS word",
    ])
      assert.equal(runsAlone(text), false, text);
  });

  it('keeps session statements out of shared connections', () => {
    assert.equal(needsSession(' begin'), true);
    assert.equal(needsSession('SET search_path TO x'), true);
    assert.equal(needsSession('SELECT 1'), false);
  });

  it('shows statements without their literals or comments', () => {
    assert.equal(
      redactStatement("SELECT * FROM users WHERE email = 'a@b.c' AND id = 42"),
      'SELECT * FROM users WHERE email = ? AND id = ?',
    );
    assert.equal(redactStatement("SELECT E'sec\\'ret', $$token$$, $x$ more $x$, 1.5e3"), 'SELECT ?, ?, ?, ?');
    assert.equal(redactStatement('SELECT id FROM t2 WHERE id = $1 -- key 1234\n LIMIT 10'), 'SELECT id FROM t2 WHERE id = $1 LIMIT ?');
    assert.equal(redactStatement("SELECT 'it''s' /* note */"), 'SELECT ?');
    assert.equal(redactStatement(`SELECT ${'x, '.repeat(200)}1`).length, 200);
  });
});
