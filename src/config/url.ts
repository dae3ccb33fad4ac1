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

/** Query parameters that carry a secret, blanked by {@link redactUrl}. */
const SECRET_PARAM = /([?&](?:password|pass|pwd|sslpassword)=)[^&]*(?:&(?![A-Za-z0-9_.-]+=)[^&]*)*/gi;

/**
 * The URL with its password replaced by ***, the rest left readable. It does not rely on the URL
 * parsing: a password with an unencoded `/`, `?`, `#`, `@` or `:` is what makes a URL unparsable,
 * so everything between `user:` and the **last** `@` is blanked (`postgres://u:***@host/db`), and a
 * `?password=` value up to the next parameter. A URL without a scheme (`app:pw@host/db`) is treated
 * the same way. The price is over-redaction of a rare URL with an `@` in its path or query
 * (`postgres://u@h:5432/db?x=a@b` shows as `postgres://u@h:***@b`): never a leak.
 */
export function redactUrl(url: string): string {
  if (/^sqlite:/i.test(url)) return url; // a file path: no credentials, and an @ in it is part of the name
  const withoutParams = url.replace(SECRET_PARAM, '$1***');
  const lastAt = withoutParams.lastIndexOf('@');
  if (lastAt < 0) return withoutParams;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(withoutParams);
  const userinfoStart = scheme === null ? 0 : scheme[0].length;
  const colon = withoutParams.indexOf(':', userinfoStart);
  if (colon < 0 || colon > lastAt) return withoutParams; // a user without a password
  return `${withoutParams.slice(0, colon + 1)}***${withoutParams.slice(lastAt)}`;
}

/**
 * {@link redactUrl} applied to every URL inside a message (an error text, a log line): each
 * `scheme://...` up to the next space or quote. For text that is itself a URL, use redactUrl.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, (url) => redactUrl(url));
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
      `${variable}="${redactUrl(url)}" is not a valid URL; expected ${scheme}//user:password@host:port/database, with any / ? # @ : or space in the user or password percent-encoded (encodeURIComponent)`,
    );
  }
  // WHATWG ends the authority at the first / ? or #: an @ after it means a user or password with
  // one of those unencoded, and the host, port or database parsed from it would carry part of the
  // password into labels and error messages. Ask for the encoding rather than guess.
  const authority = url.slice((scheme as string).length).replace(/^\/\//, '');
  const authorityEnd = authority.search(/[/?#]/);
  if (authorityEnd >= 0 && authority.slice(authorityEnd).includes('@')) {
    throw new ConfigError(
      variable,
      `${variable}="${redactUrl(url)}" has an @ after the host; percent-encode (encodeURIComponent) any / ? # @ : in the user or password, and any @ in the database name or parameters`,
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
