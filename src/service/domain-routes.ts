import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Database } from '../database.js';
import { sql } from '../query/sql.js';
import { databaseErrorKind } from './error-response.js';
import { INT32_MAX, INT32_MIN, idSchema, textSchema } from './validation.js';

type Row = Record<string, unknown>;

/** A timestamp as ISO 8601 whatever the driver returned (Date on pg/mysql2, text on SQLite). */
function isoTime(value: unknown): string | null {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value.includes('T') ? value : `${value.replace(' ', 'T')}Z`;
  return null;
}

function toUser(row: Row) {
  return {
    id: Number(row.id),
    username: String(row.username),
    email: String(row.email),
    fullName: String(row.full_name),
    isActive: Boolean(Number(row.is_active) || row.is_active === true),
    createdAt: isoTime(row.created_at),
  };
}

/** Escape LIKE wildcards with `!`, an escape character every dialect reads the same way. */
const likePattern = (text: string) => `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;

const USER_COLUMNS = sql.unsafe('id, username, email, full_name, is_active, created_at');
const limitSchema = { type: 'integer', minimum: 1, maximum: 100, default: 20 } as const;
/** OFFSET is bound like the integer ids: no table here holds more rows than an INTEGER id can number. */
const offsetSchema = { type: 'integer', minimum: 0, maximum: INT32_MAX, default: 0 } as const;
const pageSchema = {
  type: 'object',
  properties: { limit: limitSchema, offset: offsetSchema },
  additionalProperties: false,
} as const;
/** What POST /api/users accepts as a username, and so the only names GET /api/users/:username can find. */
const usernameSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } as const;

/**
 * The reference service's small domain API: users (by name, search, statistics, create) and
 * authors with their books. Listing books with their authors goes through a request-scoped
 * loader (one batched select for all authors), creating books through batchInsert.
 */
export function domainRoutes(db: Database): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/users',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { search: textSchema(64), limit: limitSchema },
            additionalProperties: false,
          },
        },
      },
      async (request) => {
        const { search, limit } = request.query as { search?: string; limit: number };
        const where =
          search === undefined || search === ''
            ? sql``
            : sql`WHERE LOWER(username) LIKE ${likePattern(search)} ESCAPE '!' OR LOWER(full_name) LIKE ${likePattern(search)} ESCAPE '!'`;
        const { rows } = await db.query<Row>(sql`SELECT ${USER_COLUMNS} FROM users ${where} ORDER BY id LIMIT ${limit}`);
        return { users: rows.map(toUser) };
      },
    );

    app.get('/api/users/stats', async () => {
      const { rows } = await db.query<Row>(
        sql`SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN is_active THEN 1 ELSE 0 END), 0) AS active, MAX(created_at) AS newest FROM users`,
      );
      const row = rows[0] ?? {};
      const total = Number(row.total ?? 0);
      const active = Number(row.active ?? 0);
      return { total, active, inactive: total - active, lastCreatedAt: isoTime(row.newest) };
    });

    app.get(
      '/api/users/:username',
      { schema: { params: { type: 'object', properties: { username: usernameSchema }, required: ['username'] } } },
      async (request, reply) => {
        const { username } = request.params as { username: string };
        const { rows } = await db.query<Row>(sql`SELECT ${USER_COLUMNS} FROM users WHERE username = ${username}`);
        if (rows[0] === undefined) return reply.code(404).send({ error: `no user named ${username}`, code: 'NOT_FOUND' });
        return toUser(rows[0]);
      },
    );

    app.post(
      '/api/users',
      {
        schema: {
          body: {
            type: 'object',
            required: ['username', 'email', 'fullName'],
            additionalProperties: false,
            properties: {
              username: usernameSchema,
              email: textSchema(255, 3),
              fullName: textSchema(255, 1),
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body as { username: string; email: string; fullName: string };
        try {
          await db.query(
            sql`INSERT INTO users (username, email, full_name, is_active) VALUES (${body.username}, ${body.email}, ${body.fullName}, ${1})`,
          );
        } catch (error) {
          if (databaseErrorKind(error) === 'duplicate')
            return reply.code(409).send({ error: `username ${body.username} is taken`, code: 'CONFLICT' });
          throw error;
        }
        const { rows } = await db.query<Row>(sql`SELECT ${USER_COLUMNS} FROM users WHERE username = ${body.username}`);
        return reply.code(201).send(toUser(rows[0]!));
      },
    );

    app.get('/api/authors', async () => {
      const { rows } = await db.query<Row>(
        sql`SELECT a.id, a.name, a.country, COUNT(b.id) AS book_count FROM authors a LEFT JOIN books b ON b.author_id = a.id GROUP BY a.id, a.name, a.country ORDER BY a.id`,
      );
      return {
        authors: rows.map((r) => ({ id: Number(r.id), name: String(r.name), country: r.country ?? null, bookCount: Number(r.book_count) })),
      };
    });

    app.get(
      '/api/authors/:id',
      {
        schema: {
          params: { type: 'object', properties: { id: idSchema }, required: ['id'] },
          querystring: pageSchema,
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: number };
        const { limit, offset } = request.query as { limit: number; offset: number };
        const { rows } = await db.query<Row>(sql`SELECT id, name, country FROM authors WHERE id = ${id}`);
        if (rows[0] === undefined) return reply.code(404).send({ error: `no author with id ${id}`, code: 'NOT_FOUND' });
        // One page of books, and their total so a client knows whether to ask for the next page.
        const [books, count] = await Promise.all([
          db.query<Row>(
            sql`SELECT id, title, published_year FROM books WHERE author_id = ${id} ORDER BY published_year, id LIMIT ${limit} OFFSET ${offset}`,
          ),
          db.query<Row>(sql`SELECT COUNT(*) AS n FROM books WHERE author_id = ${id}`),
        ]);
        return {
          id: Number(rows[0].id),
          name: String(rows[0].name),
          country: rows[0].country ?? null,
          bookCount: Number(count.rows[0]?.n ?? 0),
          limit,
          offset,
          books: books.rows.map((b) => ({
            id: Number(b.id),
            title: String(b.title),
            publishedYear: b.published_year === null ? null : Number(b.published_year),
          })),
        };
      },
    );

    app.get(
      '/api/books',
      {
        schema: { querystring: pageSchema },
      },
      async (request) => {
        const { limit, offset } = request.query as { limit: number; offset: number };
        const { rows } = await db.query<Row>(
          sql`SELECT id, author_id, title, published_year FROM books ORDER BY id LIMIT ${limit} OFFSET ${offset}`,
        );
        // One loader per request: every load() below in this tick becomes one batched select of authors.
        const authors = db.loader('authors', { key: 'id' });
        const withAuthors = await Promise.all(
          rows.map(async (b) => {
            const author = (await authors.load(Number(b.author_id))) as Row | undefined;
            return {
              id: Number(b.id),
              title: String(b.title),
              publishedYear: b.published_year === null ? null : Number(b.published_year),
              author: author === undefined ? null : { id: Number(author.id), name: String(author.name) },
            };
          }),
        );
        return { books: withAuthors };
      },
    );

    app.post(
      '/api/books/batch',
      {
        schema: {
          body: {
            type: 'object',
            required: ['books'],
            additionalProperties: false,
            properties: {
              books: {
                type: 'array',
                minItems: 1,
                maxItems: 5000,
                items: {
                  type: 'object',
                  required: ['authorId', 'title'],
                  additionalProperties: false,
                  properties: {
                    authorId: idSchema,
                    title: textSchema(300, 1),
                    publishedYear: { type: ['integer', 'null'], minimum: INT32_MIN, maximum: INT32_MAX },
                  },
                },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const { books } = request.body as { books: { authorId: number; title: string; publishedYear?: number | null }[] };
        const rows = books.map((b) => ({ author_id: b.authorId, title: b.title, published_year: b.publishedYear ?? null }));
        const result = await db.batchInsert('books', rows);
        return reply.code(201).send({ inserted: result.rowCount });
      },
    );
  };
}
