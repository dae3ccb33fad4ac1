import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERVICE_DIALECTS, startServiceOn } from '../support/in-process-service.js';
import { http } from '../support/service-api.js';

/**
 * Input that passed the schemas and then failed in the database as a 500 (issue #11, item 4), and
 * bodies that were coerced or trimmed instead of refused (item 6): each must be a 400 in the
 * service's error shape, on every dialect, with nothing written.
 */
const REFUSED: readonly { what: string; path: string; body?: unknown }[] = [
  { what: 'a NUL byte in search', path: '/api/users?search=a%00b' },
  { what: 'a NUL byte in a username', path: '/api/users/al%00ice' },
  { what: 'a NUL byte in fullName', path: '/api/users', body: { username: 'nul_name', email: 'n@example.com', fullName: 'A\u0000B' } },
  { what: 'a NUL byte in email', path: '/api/users', body: { username: 'nul_mail', email: 'n\u0000@example.com', fullName: 'AB' } },
  { what: 'a NUL byte in a title', path: '/api/books/batch', body: { books: [{ authorId: 1, title: 'T\u0000' }] } },
  { what: 'an author id past INTEGER', path: '/api/authors/2147483648' },
  { what: 'an offset of 1e20', path: '/api/books?offset=99999999999999999999' },
  { what: 'an offset past INTEGER', path: '/api/books?offset=2147483648' },
  { what: 'an author page offset of 1e20', path: '/api/authors/1?offset=99999999999999999999' },
  {
    what: 'publishedYear past INTEGER',
    path: '/api/books/batch',
    body: { books: [{ authorId: 1, title: 'T', publishedYear: 2147483648 }] },
  },
  {
    what: 'publishedYear below INTEGER',
    path: '/api/books/batch',
    body: { books: [{ authorId: 1, title: 'T', publishedYear: -2147483649 }] },
  },
  { what: 'authorId past INTEGER', path: '/api/books/batch', body: { books: [{ authorId: 2147483648, title: 'T' }] } },
  {
    what: 'a number as username (was coerced to "12345")',
    path: '/api/users',
    body: { username: 12345, email: 'c@example.com', fullName: 'C' },
  },
  {
    what: 'a string as publishedYear (was coerced)',
    path: '/api/books/batch',
    body: { books: [{ authorId: 1, title: 'T', publishedYear: '1999' }] },
  },
  { what: 'a boolean as title (was coerced)', path: '/api/books/batch', body: { books: [{ authorId: 1, title: true }] } },
  {
    what: 'an unknown body field (was dropped)',
    path: '/api/users',
    body: { username: 'extra_field', email: 'e@example.com', fullName: 'E', admin: true },
  },
  { what: 'an unknown field in a book (was dropped)', path: '/api/books/batch', body: { books: [{ authorId: 1, title: 'T', isbn: 'x' }] } },
  { what: 'an unknown query parameter (was ignored)', path: '/api/users?limt=5' },
];

for (const dialect of SERVICE_DIALECTS) {
  describe(`service on ${dialect}: hostile input`, () => {
    it('is refused with 400 { error, code: INVALID_REQUEST }, never a 500, and nothing is written', async (t) => {
      const service = await startServiceOn(t, dialect, { DB_HEALTH_CHECK_INTERVAL: '0' });
      if (service === undefined) return;
      const countBooks = async () =>
        (await http(service.url, '/api/authors')).body.authors.reduce((sum: number, a: { bookCount: number }) => sum + a.bookCount, 0);
      const usersBefore = (await http(service.url, '/api/users/stats')).body.total;
      const booksBefore = await countBooks();

      for (const { what, path, body } of REFUSED) {
        const response = await http(service.url, path, body);
        assert.equal(response.status, 400, `${what}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.code, 'INVALID_REQUEST', what);
        assert.equal(typeof response.body.error, 'string', what);
      }
      const nul = await http(service.url, '/api/users?search=a%00b');
      assert.equal(nul.body.error, 'querystring/search must not contain a NUL character');

      assert.equal((await http(service.url, '/api/users/stats')).body.total, usersBefore, 'no user was created');
      assert.equal(await countBooks(), booksBefore, 'no book was created');
      // The bounds are the columns' own: the largest INTEGER is accepted (and matches nothing).
      assert.equal((await http(service.url, '/api/authors/2147483647')).status, 404);
      assert.equal((await http(service.url, '/api/books?offset=2147483647')).status, 200);
    });
  });
}
