import { ConfigError } from '../errors.js';
import type { ConnectionTarget, DialectName } from './options.js';

const SCHEMES: Readonly<Record<string, DialectName>> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'sqlite:': 'sqlite',
};

const DEFAULT_PORTS: Readonly<Record<DialectName, number | undefined>> = { postgres: 5432, mysql: 3306, sqlite: undefined };

/** Replace the password of any URL-looking string with ***, leaving the rest readable. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@')
    .replace(/([?&](?:password|pass|pwd|sslpassword)=)[^&#]*/gi, '$1***');
}

/** Parse a connection URL into a target. Throws CONFIG_INVALID naming `variable`. */
export function parseConnectionUrl(url: string, variable: string): ConnectionTarget {
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0]?.toLowerCase();
  const dialect = scheme === undefined ? undefined : SCHEMES[scheme];
  if (dialect === undefined) {
    throw new ConfigError(
      variable,
      `${variable}="${redactUrl(url)}" has an unknown scheme; accepted: postgres://, postgresql://, mysql://, mariadb://, sqlite:path, sqlite::memory:`,
    );
  }
  if (dialect === 'sqlite') return parseSqliteUrl(url, variable);

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      variable,
      `${variable}="${redactUrl(url)}" is not a valid URL; expected ${scheme}//user:password@host:port/database`,
    );
  }
  if (parsed.hostname === '') {
    throw new ConfigError(variable, `${variable}="${redactUrl(url)}" has no host; expected ${scheme}//user:password@host:port/database`);
  }
  let port: number | undefined = DEFAULT_PORTS[dialect];
  if (parsed.port !== '') {
    port = Number(parsed.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(variable, `${variable}="${redactUrl(url)}" has an invalid port; accepted: 1 to 65535`);
    }
  }
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams) params[key] = value;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined;
  return {
    dialect,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    user: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    database,
    filename: undefined,
    params: Object.freeze(params),
    redactedUrl: redactUrl(url),
  };
}

/** The password embedded in a URL (user:password@host or ?password=), or undefined. */
export function passwordFromUrl(url: string): string | undefined {
  if (/^sqlite:/i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') return decodeURIComponent(parsed.password);
    return parsed.searchParams.get('password') ?? undefined;
  } catch {
    return undefined;
  }
}

function parseSqliteUrl(url: string, variable: string): ConnectionTarget {
  // sqlite:relative/path.db, sqlite:/abs/path.db, sqlite:///abs/path.db, sqlite::memory:
  const rest = url.slice('sqlite:'.length);
  const [pathPart = '', query = ''] = rest.split('?', 2);
  let filename = pathPart.startsWith('//') ? pathPart.slice(2) : pathPart;
  if (filename === ':memory:' || filename === '') {
    if (filename === '') {
      throw new ConfigError(variable, `${variable}="${url}" has no file; accepted: sqlite:relative/or/absolute.db or sqlite::memory:`);
    }
    filename = ':memory:';
  }
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) params[key] = value;
  return {
    dialect: 'sqlite',
    host: 'localhost',
    port: undefined,
    user: undefined,
    database: filename,
    filename: decodeURIComponent(filename),
    params: Object.freeze(params),
    redactedUrl: url,
  };
}
