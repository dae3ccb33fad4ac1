import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POSTGRES_URL, requireServer } from '../support/databases.js';
import { startInProcessService } from '../support/in-process-service.js';

test('listing books with their authors is two statements (books, then one batched select of authors), not one per book', async (t) => {
  if (!(await requireServer(t, POSTGRES_URL, 'postgres'))) return;
  const running = await startInProcessService(t, POSTGRES_URL, { DB_HEALTH_CHECK_INTERVAL: '0' });
  // Two witnesses: the observer's statement count and the pool's checkout events.
  const before = running.db.observability!.performance().totals.queries;
  let checkouts = 0;
  running.db.on('checkout', () => {
    checkouts++;
  });

  const response = await fetch(`${running.url}/api/books?limit=20`);
  assert.equal(response.status, 200);
  const { books } = (await response.json()) as { books: { author: { name: string } | null }[] };
  assert.equal(books.length, 20);
  assert.ok(books.every((b) => b.author !== null));
  assert.ok(new Set(books.map((b) => b.author!.name)).size > 3, 'the page spans several authors');

  assert.equal(running.db.observability!.performance().totals.queries - before, 2);
  assert.equal(checkouts, 2);
});
