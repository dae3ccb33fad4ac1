import { SpillwayError } from '../errors.js';
import { NO_NUL } from './validation.js';

/** The one shape of every error the reference service answers with. */
export interface ErrorBody {
  error: string;
  code: string;
}

/** An HTTP status and the body to send with it. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
}

/**
 * What the client is told about Spillway's errors. Generic on purpose: the library's own messages
 * carry pool status, host names and driver text that help an operator (they go to the log) but tell
 * a client nothing it can act on.
 */
const SPILLWAY_RESPONSES: Readonly<Record<string, { status: number; error: string }>> = {
  POOL_TIMEOUT: { status: 503, error: 'no database connection became free in time; retry later' },
  POOL_CLOSED: { status: 503, error: 'the service is shutting down' },
  CIRCUIT_OPEN: { status: 503, error: 'the database is unavailable; retry later' },
  CONNECT_TIMEOUT: { status: 503, error: 'the database is unavailable; retry later' },
  CONNECTION_LOST: { status: 503, error: 'the database connection was lost; retry later' },
  ACQUIRE_ABORTED: { status: 503, error: 'the request was abandoned while waiting for the database' },
  STATEMENT_TIMEOUT: { status: 504, error: 'the database took too long to answer' },
  LOCK_TIMEOUT: { status: 504, error: 'the data is locked by another request; retry later' },
  BATCH_INVALID: { status: 400, error: 'the batch is invalid' },
};

/** What the client is told about a database error, by kind (never the constraint or table name). */
const DATABASE_RESPONSES = {
  duplicate: { status: 409, body: { error: 'a record with this key already exists', code: 'CONFLICT' } },
  missingReference: { status: 422, body: { error: 'a referenced record does not exist', code: 'UNKNOWN_REFERENCE' } },
  invalidValue: { status: 400, body: { error: 'a value is invalid or out of range for its column', code: 'INVALID_VALUE' } },
} as const satisfies Record<string, ErrorResponse>;

type DatabaseErrorKind = keyof typeof DATABASE_RESPONSES;

const SQLITE_KINDS: Readonly<Record<string, DatabaseErrorKind>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'duplicate',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'duplicate',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'missingReference',
  SQLITE_CONSTRAINT_NOTNULL: 'invalidValue',
  SQLITE_CONSTRAINT_CHECK: 'invalidValue',
  SQLITE_MISMATCH: 'invalidValue', // a value of the wrong type for an INTEGER PRIMARY KEY or LIMIT
  SQLITE_TOOBIG: 'invalidValue',
};

const MYSQL_KINDS: Readonly<Record<string, DatabaseErrorKind>> = {
  ER_DUP_ENTRY: 'duplicate',
  ER_NO_REFERENCED_ROW: 'missingReference',
  ER_NO_REFERENCED_ROW_2: 'missingReference',
  ER_BAD_NULL_ERROR: 'invalidValue',
  ER_CHECK_CONSTRAINT_VIOLATED: 'invalidValue',
};

/**
 * The kind of a database error that the request's data caused, from the driver's own fields:
 * PostgreSQL's SQLSTATE (`code`), mysql2's `code` and `sqlState`, better-sqlite3's `code`. SQLSTATE
 * class 22 is "data exception" (out of range, invalid text such as a NUL byte, bad dates), class 23
 * "integrity constraint violation". Undefined for anything else: a server fault, not the client's.
 */
export function databaseErrorKind(error: unknown): DatabaseErrorKind | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, sqlState } = error as { code?: unknown; sqlState?: unknown };
  if (typeof code === 'string') {
    const known = SQLITE_KINDS[code] ?? MYSQL_KINDS[code];
    if (known !== undefined) return known;
    if (code === '23505') return 'duplicate';
    if (code === '23503') return 'missingReference';
    if (code === '23502' || code === '23514') return 'invalidValue';
  }
  // PostgreSQL puts the SQLSTATE in `code`, mysql2 in `sqlState` (MariaDB: 22003 out of range,
  // 22001 too long, 22007 incorrect string or date value).
  const state = typeof sqlState === 'string' ? sqlState : code;
  if (typeof state === 'string' && /^22[0-9A-Z]{3}$/.test(state)) return 'invalidValue';
  return undefined;
}

/** Ajv's message for the failed rule ("body/username must be string"), in words for the NUL rule. */
function validationMessage(error: unknown): string {
  const { validation, validationContext, message } = error as {
    validation?: { keyword?: string; instancePath?: string; params?: { pattern?: string } }[];
    validationContext?: string;
    message?: string;
  };
  const first = validation?.[0];
  if (first?.keyword === 'pattern' && first.params?.pattern === NO_NUL)
    return `${validationContext ?? 'request'}${first.instancePath ?? ''} must not contain a NUL character`;
  return message ?? 'the request is invalid';
}

/** Fastify's own client errors (bad JSON, wrong content type, body too large): status and code as Fastify set them. */
function clientError(error: unknown): ErrorResponse | undefined {
  const { statusCode, code, message } = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return undefined;
  return {
    status: statusCode,
    body: { error: typeof message === 'string' ? message : 'bad request', code: typeof code === 'string' ? code : 'BAD_REQUEST' },
  };
}

/**
 * The response for an error thrown by a route: schema violations and data the database refused are
 * 400/409/422 with a generic message; the pool being unavailable or too slow is 503/504; anything
 * else is 500 "internal error". `internal` tells the caller to log the error (the message the client
 * gets never carries the driver's text).
 */
export function errorResponse(error: unknown): ErrorResponse & { internal: boolean } {
  const validation = (error as { validation?: unknown }).validation;
  if (validation !== undefined) return { status: 400, body: { error: validationMessage(error), code: 'INVALID_REQUEST' }, internal: false };
  if (error instanceof SpillwayError) {
    const known = SPILLWAY_RESPONSES[error.code];
    if (known !== undefined) return { status: known.status, body: { error: known.error, code: error.code }, internal: known.status >= 500 };
    return { status: 500, body: { error: 'internal error', code: 'INTERNAL_ERROR' }, internal: true };
  }
  const kind = databaseErrorKind(error);
  if (kind !== undefined) return { ...DATABASE_RESPONSES[kind], internal: false };
  const client = clientError(error);
  if (client !== undefined) return { ...client, internal: false };
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL_ERROR' }, internal: true };
}
