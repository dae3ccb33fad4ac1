import assert from 'node:assert/strict';

/** GET or POST JSON against a running service; returns status and parsed body. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are arbitrary JSON, checked field by field by the assertions
export async function http(base: string, path: string, body?: unknown): Promise<{ status: number; body: any; type: string }> {
  const response = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: type.includes('json') ? JSON.parse(text) : text, type };
}

/**
 * The reference service's domain API, checked end to end over real HTTP. The same assertions run
 * on every dialect: the service must behave the same on SQLite, PostgreSQL and MariaDB.
 */
export async function exerciseDomainApi(base: string): Promise<void> {
  const list = await http(base, '/api/users?limit=5');
  assert.equal(list.status, 200);
  assert.equal(list.body.users.length, 5);

  const alice = await http(base, '/api/users/alice_smith');
  assert.equal(alice.status, 200);
  assert.equal(alice.body.fullName, 'Alice Smith');
  assert.equal(alice.body.isActive, true);
  assert.match(alice.body.createdAt, /^\d{4}-\d\d-\d\dT/);
  assert.equal((await http(base, '/api/users/nobody_here')).status, 404);

  const search = await http(base, '/api/users?search=SMI&limit=3');
  assert.equal(search.status, 200);
  assert.equal(search.body.users.length, 3);
  for (const user of search.body.users) assert.match(`${user.username} ${user.fullName}`.toLowerCase(), /smi/);
  // LIKE wildcards in the search text are literal characters, not patterns.
  assert.equal((await http(base, '/api/users?search=%25&limit=3')).body.users.length, 0);
  assert.equal((await http(base, '/api/users?search=_&limit=100')).body.users.length, 80);
  assert.equal((await http(base, '/api/users?limit=abc')).status, 400);

  const stats = await http(base, '/api/users/stats');
  assert.deepEqual(
    { total: stats.body.total, active: stats.body.active, inactive: stats.body.inactive },
    { total: 80, active: 64, inactive: 16 },
  );

  const created = await http(base, '/api/users', { username: 'zoe_e2e', email: 'zoe@example.com', fullName: 'Zoe E2E' });
  assert.equal(created.status, 201);
  assert.equal(created.body.username, 'zoe_e2e');
  assert.equal((await http(base, '/api/users', { username: 'zoe_e2e', email: 'z@example.com', fullName: 'Z' })).status, 409);
  assert.equal((await http(base, '/api/users/stats')).body.total, 81);

  const authors = await http(base, '/api/authors');
  assert.equal(authors.status, 200);
  assert.equal(authors.body.authors.length, 8);
  const names = new Map<number, string>(authors.body.authors.map((a: { id: number; name: string }) => [a.id, a.name]));
  const bookCount = authors.body.authors.reduce((sum: number, a: { bookCount: number }) => sum + a.bookCount, 0);

  const books = await http(base, '/api/books?limit=100');
  assert.equal(books.status, 200);
  assert.equal(books.body.books.length, bookCount);
  for (const book of books.body.books) assert.equal(book.author.name, names.get(book.author.id), `author of ${book.title}`);

  const lem = authors.body.authors.find((a: { name: string }) => a.name === 'Stanisław Lem');
  const batch = await http(base, '/api/books/batch', {
    books: [
      { authorId: lem.id, title: 'Fiasco', publishedYear: 1986 },
      { authorId: lem.id, title: 'The Invincible', publishedYear: 1964 },
      { authorId: lem.id, title: "Robert'); DROP TABLE books;--", publishedYear: null },
    ],
  });
  assert.equal(batch.status, 201);
  assert.equal(batch.body.inserted, 3);
  const lemNow = await http(base, `/api/authors/${lem.id}`);
  assert.equal(lemNow.body.books.length, 6);
  assert.ok(lemNow.body.books.some((b: { title: string }) => b.title === "Robert'); DROP TABLE books;--"));
  // Author detail is paged (limit 20 by default, at most 100), with the total to know when to stop.
  const firstPage = await http(base, `/api/authors/${lem.id}?limit=4`);
  const secondPage = await http(base, `/api/authors/${lem.id}?limit=4&offset=4`);
  assert.deepEqual([firstPage.body.bookCount, firstPage.body.books.length, secondPage.body.books.length], [6, 4, 2]);
  const paged = [...firstPage.body.books, ...secondPage.body.books].map((b: { id: number }) => b.id);
  assert.deepEqual(
    paged,
    lemNow.body.books.map((b: { id: number }) => b.id),
    'the pages together are the whole list, in order',
  );
  assert.equal((await http(base, `/api/authors/${lem.id}?limit=101`)).status, 400);
  assert.equal((await http(base, '/api/books/batch', { books: [{ authorId: 999_999, title: 'Nobody wrote this' }] })).status, 422);
  assert.equal((await http(base, '/api/authors/999999')).status, 404);

  const page = await http(base, '/dashboard');
  assert.equal(page.status, 200);
  assert.match(page.type, /text\/html/);
  // Self-contained: uPlot and the page's script are inline, nothing is loaded from elsewhere.
  assert.match(page.body, /uPlot/);
  assert.doesNotMatch(page.body, /<script[^>]+src=|<link[^>]+href="http/);
  assert.equal((await http(base, '/health')).status, 200);
  const pool = await http(base, '/health/pool');
  assert.equal(pool.status, 200);
  assert.ok(pool.body.utilization >= 0 && pool.body.utilization <= 1);
  assert.equal((await http(base, '/health/detailed')).body.service, 'spillway-reference-service');
  assert.match((await http(base, '/metrics')).body, /db_client_connection_count\{/);
  assert.equal((await http(base, '/ready')).status, 200);
}
