import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConnectionTarget } from './connection-target.js';

/** libpq's sslmode values; MySQL's ssl-mode names map onto them (DISABLED = disable, ..., VERIFY_IDENTITY = verify-full). */
export type TlsMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/**
 * TLS to the database as `createPool({ tls })` takes it. Each field wins over the URL
 * (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, `sslpassword`; MySQL: `ssl-mode`, `ssl-ca`,
 * `ssl-cert`, `ssl-key`), which wins over the `PGSSL*` environment (PostgreSQL only).
 */
export interface TlsOptions {
  /** libpq's names (disable, allow, prefer, require, verify-ca, verify-full) or MySQL's (DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY). */
  mode?: string;
  /** Trusted CA certificates: a file path, PEM text, or 'system' (Node's trusted roots). */
  rootCert?: string | Buffer;
  /** Client certificate: a file path or PEM text. */
  cert?: string | Buffer;
  /** Client private key: a file path or PEM text. Never shown. */
  key?: string | Buffer;
  /** Passphrase of an encrypted client key (libpq's sslpassword). Never shown. */
  password?: string;
}

/** One piece of TLS material: a file (read at start, read again when it changes) or PEM given inline. */
export interface TlsMaterial {
  /** The setting it came from (`sslrootcert`, `PGSSLKEY`, `tls.key`, ...), for messages. */
  readonly variable: string;
  readonly file: string | undefined;
  readonly pem: string | Buffer | undefined;
}

/** What is checked of the server's certificate. */
export type TlsVerify = 'none' | 'chain' | 'chain-and-host';

/** TLS settings resolved once, at the edge; the dialects map them onto their driver. */
export interface ResolvedTls {
  readonly mode: TlsMode;
  /** The setting that chose the mode (`sslmode`, `PGSSLMODE`, `ssl-mode`, `tls.mode`; `default` when none did). */
  readonly modeVariable: string;
  readonly verify: TlsVerify;
  /** Trusted CAs; 'system' for Node's trusted roots; undefined when nothing is verified. */
  readonly rootCert: TlsMaterial | 'system' | undefined;
  readonly cert: TlsMaterial | undefined;
  readonly key: TlsMaterial | undefined;
  readonly password: { readonly variable: string; readonly value: string } | undefined;
}

/** No TLS: the default on every dialect, and all there is on SQLite. */
export const TLS_DISABLED: ResolvedTls = Object.freeze({
  mode: 'disable',
  modeVariable: 'default',
  verify: 'none',
  rootCert: undefined,
  cert: undefined,
  key: undefined,
  password: undefined,
});

const LIBPQ_MODES: readonly TlsMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];
const MYSQL_MODES: Readonly<Record<string, TlsMode>> = {
  DISABLED: 'disable',
  PREFERRED: 'prefer',
  REQUIRED: 'require',
  VERIFY_CA: 'verify-ca',
  VERIFY_IDENTITY: 'verify-full',
};

type Env = Record<string, string | undefined>;

/** A setting's value and the name of the variable it came from. */
interface Found<T> {
  value: T;
  variable: string;
}

/**
 * Resolve TLS for one pool: `tls` option fields over the URL's parameters over the `PGSSL*`
 * environment, with libpq's rules on PostgreSQL and MySQL's on MySQL/MariaDB. Throws CONFIG_INVALID
 * naming the setting for an unknown mode, a file that cannot be read, a certificate without its key,
 * or a verifying mode with nothing to verify against.
 */
export function resolveTls(options: TlsOptions | undefined, target: ConnectionTarget, env: Env): ResolvedTls {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new ConfigError('tls', 'option tls must be an object: { mode, rootCert, cert, key, password }');
  }
  const given = options ?? {};
  for (const key of Object.keys(given)) {
    if (!['mode', 'rootCert', 'cert', 'key', 'password'].includes(key)) {
      throw new ConfigError(`tls.${key}`, `Unknown option "tls.${key}"; accepted: tls.mode, tls.rootCert, tls.cert, tls.key, tls.password`);
    }
  }
  if (target.dialect === 'sqlite') {
    if (options !== undefined) throw new ConfigError('tls', 'option tls applies to PostgreSQL and MySQL/MariaDB, not to SQLite');
    return TLS_DISABLED;
  }
  return target.dialect === 'postgres' ? resolvePostgres(given, target.params, env) : resolveMysql(given, target.params);
}

/** libpq: sslmode (default here: disable), sslrootcert, sslcert, sslkey, sslpassword, and the PGSSL* variables. */
function resolvePostgres(options: TlsOptions, params: Readonly<Record<string, string>>, env: Env): ResolvedTls {
  const rootCertGiven = pick(options.rootCert, 'tls.rootCert', params.sslrootcert, 'sslrootcert', env.PGSSLROOTCERT, 'PGSSLROOTCERT');
  const system = rootCertGiven !== undefined && rootCertGiven.value === 'system';
  let mode = postgresMode(options, params, env);
  // libpq 16: sslrootcert=system makes verify-full the default and refuses anything weaker.
  if (mode === undefined && system) mode = { value: 'verify-full', variable: (rootCertGiven as Found<string>).variable };
  const chosen = mode ?? { value: 'disable' as TlsMode, variable: 'default' };
  if (chosen.value === 'disable') return Object.freeze({ ...TLS_DISABLED, modeVariable: chosen.variable });
  if (system && chosen.value !== 'verify-full') {
    throw new ConfigError(
      chosen.variable,
      `${chosen.variable}=${chosen.value} is too weak for sslrootcert=system (any public CA will sign a certificate for a host its owner controls); accepted: verify-full`,
    );
  }

  const home = env.HOME ?? homedir();
  // libpq's defaults under ~/.postgresql: used when present, and never an error when absent.
  const defaultFile = (name: string): Found<string> | undefined => {
    const file = join(home, '.postgresql', name);
    return existsSync(file) ? { value: file, variable: `~/.postgresql/${name}` } : undefined;
  };
  let rootCert: TlsMaterial | 'system' | undefined;
  if (system) rootCert = 'system';
  else {
    const found = rootCertGiven ?? defaultFile('root.crt');
    rootCert = found === undefined ? undefined : material(found);
  }
  let verify: TlsVerify = chosen.value === 'verify-full' ? 'chain-and-host' : chosen.value === 'verify-ca' ? 'chain' : 'none';
  if (verify === 'none' && rootCert !== undefined) verify = 'chain'; // libpq: "if a root CA file exists", require acts as verify-ca
  if (verify !== 'none' && rootCert === undefined) {
    throw new ConfigError(
      'sslrootcert',
      `${chosen.variable}=${chosen.value} needs the CA to verify the server against, and ~/.postgresql/root.crt does not exist; set sslrootcert (a CA file, or sslrootcert=system for Node's trusted roots) or PGSSLROOTCERT`,
    );
  }

  const certGiven = pick(options.cert, 'tls.cert', params.sslcert, 'sslcert', env.PGSSLCERT, 'PGSSLCERT');
  const keyGiven = pick(options.key, 'tls.key', params.sslkey, 'sslkey', env.PGSSLKEY, 'PGSSLKEY');
  const certFound = certGiven ?? (keyGiven === undefined ? defaultFile('postgresql.crt') : undefined);
  const keyFound = keyGiven ?? (certFound !== undefined ? defaultFile('postgresql.key') : undefined);
  const password = pick(options.password, 'tls.password', params.sslpassword, 'sslpassword', undefined, '');
  return clientPair(chosen, verify, rootCert, certFound, keyFound, password, 'sslcert', 'sslkey');
}

function postgresMode(options: TlsOptions, params: Readonly<Record<string, string>>, env: Env): Found<TlsMode> | undefined {
  if (options.mode !== undefined) return { value: parseMode(options.mode, 'tls.mode', 'either'), variable: 'tls.mode' };
  if (params.sslmode !== undefined) return { value: parseMode(params.sslmode, 'sslmode', 'libpq'), variable: 'sslmode' };
  if (params.ssl !== undefined) {
    // pg's own URL form: ssl=true asks for TLS without verification (sslmode=require), ssl=false for none.
    const word = params.ssl.toLowerCase();
    if (word === 'true' || word === '1') return { value: 'require', variable: 'ssl' };
    if (word === 'false' || word === '0') return { value: 'disable', variable: 'ssl' };
    throw new ConfigError('ssl', `?ssl=${params.ssl} in the URL is invalid; accepted: true, false (or sslmode=...)`);
  }
  const fromEnv = env.PGSSLMODE?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return { value: parseMode(fromEnv, 'PGSSLMODE', 'libpq'), variable: 'PGSSLMODE' };
  return undefined;
}

/** MySQL's client rules: ssl-mode (default here: DISABLED, as mysql2's), ssl-ca alone means VERIFY_CA. */
function resolveMysql(options: TlsOptions, params: Readonly<Record<string, string>>): ResolvedTls {
  const rootCertGiven = pick(options.rootCert, 'tls.rootCert', params['ssl-ca'], 'ssl-ca', undefined, '');
  let chosen: Found<TlsMode> | undefined;
  if (options.mode !== undefined) chosen = { value: parseMode(options.mode, 'tls.mode', 'either'), variable: 'tls.mode' };
  else if (params['ssl-mode'] !== undefined) chosen = { value: parseMode(params['ssl-mode'], 'ssl-mode', 'mysql'), variable: 'ssl-mode' };
  else if (rootCertGiven !== undefined) chosen = { value: 'verify-ca', variable: rootCertGiven.variable };
  if (chosen?.value === 'allow') {
    throw new ConfigError(
      chosen.variable,
      `${chosen.variable}=allow is PostgreSQL's; MySQL accepts DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY`,
    );
  }
  if (chosen === undefined || chosen.value === 'disable')
    return Object.freeze({ ...TLS_DISABLED, modeVariable: chosen?.variable ?? 'default' });
  const verify: TlsVerify = chosen.value === 'verify-full' ? 'chain-and-host' : chosen.value === 'verify-ca' ? 'chain' : 'none';
  let rootCert: TlsMaterial | 'system' | undefined;
  if (rootCertGiven?.value === 'system') rootCert = 'system';
  else if (rootCertGiven !== undefined) rootCert = material(rootCertGiven);
  else if (verify !== 'none') rootCert = 'system'; // mysql2 verifies against Node's trusted roots when no CA is given
  const cert = pick(options.cert, 'tls.cert', params['ssl-cert'], 'ssl-cert', undefined, '');
  const key = pick(options.key, 'tls.key', params['ssl-key'], 'ssl-key', undefined, '');
  const password = pick(options.password, 'tls.password', undefined, '', undefined, '');
  return clientPair(chosen, verify, verify === 'none' ? undefined : rootCert, cert, key, password, 'ssl-cert', 'ssl-key');
}

/** The client certificate and key go together; a passphrase needs a key. */
function clientPair(
  mode: Found<TlsMode>,
  verify: TlsVerify,
  rootCert: TlsMaterial | 'system' | undefined,
  certFound: Found<string | Buffer> | undefined,
  keyFound: Found<string | Buffer> | undefined,
  password: Found<string | Buffer> | undefined,
  certName: string,
  keyName: string,
): ResolvedTls {
  if (certFound !== undefined && keyFound === undefined) {
    throw new ConfigError(keyName, `${certFound.variable} is set but no private key is; set ${keyName} (or tls.key) too`);
  }
  if (keyFound !== undefined && certFound === undefined) {
    throw new ConfigError(certName, `${keyFound.variable} is set but no client certificate is; set ${certName} (or tls.cert) too`);
  }
  if (password !== undefined && typeof password.value !== 'string') {
    throw new ConfigError(password.variable, `${password.variable} must be a string`);
  }
  return Object.freeze({
    mode: mode.value,
    modeVariable: mode.variable,
    verify,
    rootCert,
    cert: certFound === undefined ? undefined : material(certFound),
    key: keyFound === undefined ? undefined : material(keyFound),
    password: password === undefined ? undefined : hidden({ variable: password.variable }, 'value', password.value as string),
  });
}

/**
 * `target` with `key` set but not enumerable, then frozen: a key or passphrase stays out of
 * JSON.stringify, console.log and util.inspect of the config (as pg hides a client's password).
 */
function hidden<T extends object, K extends string, V>(target: T, key: K, value: V): Readonly<T & Record<K, V>> {
  Object.defineProperty(target, key, { value, enumerable: false });
  return Object.freeze(target) as Readonly<T & Record<K, V>>;
}

function parseMode(value: string, variable: string, vocabulary: 'libpq' | 'mysql' | 'either'): TlsMode {
  if (typeof value !== 'string') throw new ConfigError(variable, `${variable} must be a string`);
  const mysql = MYSQL_MODES[value.trim().toUpperCase()];
  if (vocabulary !== 'libpq' && mysql !== undefined) return mysql;
  const libpq = LIBPQ_MODES.find((m) => m === value.trim().toLowerCase());
  // pg's extra spelling: TLS without verification.
  if (vocabulary !== 'mysql' && value.trim().toLowerCase() === 'no-verify') return 'require';
  if (vocabulary !== 'mysql' && libpq !== undefined) return libpq;
  const accepted =
    vocabulary === 'mysql'
      ? Object.keys(MYSQL_MODES).join(', ')
      : vocabulary === 'libpq'
        ? LIBPQ_MODES.join(', ')
        : `${LIBPQ_MODES.join(', ')} or ${Object.keys(MYSQL_MODES).join(', ')}`;
  throw new ConfigError(variable, `${variable}=${JSON.stringify(value)} is invalid; accepted: ${accepted}`);
}

/** The first of option, URL parameter and environment variable that is set, with its name. */
function pick<T extends string | Buffer>(
  option: T | undefined,
  optionName: string,
  param: string | undefined,
  paramName: string,
  envValue: string | undefined,
  envName: string,
): Found<T | string> | undefined {
  if (option !== undefined) {
    if (typeof option !== 'string' && !Buffer.isBuffer(option)) {
      throw new ConfigError(optionName, `${optionName} must be a string (a file path or PEM text) or a Buffer`);
    }
    return { value: option, variable: optionName };
  }
  if (param !== undefined && param !== '') return { value: param, variable: paramName };
  if (envValue !== undefined && envValue.trim() !== '') return { value: envValue.trim(), variable: envName };
  return undefined;
}

/** PEM text (or a Buffer) is used as it is; anything else is a file, which must be readable now. */
function material(found: Found<string | Buffer>): TlsMaterial {
  const { value, variable } = found;
  if (Buffer.isBuffer(value) || value.includes('-----BEGIN ')) return hidden({ variable, file: undefined }, 'pem', value);
  try {
    accessSync(value, constants.R_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    throw new ConfigError(variable, `${variable}="${value}" ${reason}; accepted: a readable PEM file, or PEM text`);
  }
  return Object.freeze({ variable, file: value, pem: undefined });
}

/** The TLS settings as safe to show: the mode, what is verified, file paths; never a key or passphrase. */
export function describeTls(tls: ResolvedTls): Record<string, unknown> {
  const show = (m: TlsMaterial | undefined, secret: boolean) =>
    m === undefined ? undefined : m.file !== undefined ? m.file : secret ? '***' : '(PEM)';
  return {
    mode: tls.mode,
    modeFrom: tls.modeVariable,
    verify: tls.verify,
    rootCert: tls.rootCert === 'system' ? 'system' : show(tls.rootCert, false),
    cert: show(tls.cert, false),
    key: show(tls.key, true),
    password: tls.password === undefined ? undefined : '***',
  };
}

/** `sslmode=verify-full`, `ssl-mode=VERIFY_IDENTITY`: the mode as its setting spells it, for messages. */
export function modeLabel(tls: ResolvedTls): string {
  const mysqlName = Object.entries(MYSQL_MODES).find(([, mode]) => mode === tls.mode)?.[0] ?? tls.mode;
  switch (tls.modeVariable) {
    case 'ssl-mode':
      return `ssl-mode=${mysqlName}`;
    case 'sslmode':
    case 'PGSSLMODE':
    case 'tls.mode':
      return `${tls.modeVariable}=${tls.mode}`;
    case 'ssl':
      return `ssl=${tls.mode === 'disable' ? 'false' : 'true'} (sslmode=${tls.mode})`;
    case 'default':
      return `sslmode=${tls.mode} (the default)`;
    default: // implied by another setting: sslrootcert=system, ssl-ca
      return `TLS mode ${tls.mode} (implied by ${tls.modeVariable})`;
  }
}
