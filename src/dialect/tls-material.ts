import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { modeLabel, type ResolvedTls, type TlsMaterial } from '../config/tls-config.js';
import { ConfigError, TlsError } from '../errors.js';

/** The TLS material of one pool, read and checked; what the dialects hand their driver. */
export interface LoadedTls {
  readonly ca: string | Buffer | undefined;
  readonly cert: string | Buffer | undefined;
  readonly key: string | Buffer | undefined;
  readonly passphrase: string | undefined;
  /** Built once per load from the material above (trusted CAs, client certificate and key). */
  readonly secureContext: SecureContext;
  readonly rejectUnauthorized: boolean;
  /** Node's host name check for verify-full; a no-op otherwise (verify-ca checks the chain only). */
  readonly checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

const skipIdentity = (): undefined => undefined;

/**
 * Reads the CA, client certificate and key once at start (so a missing file, a bad PEM or a wrong
 * passphrase is CONFIG_INVALID before anything connects), and again when a file changes on disk, so
 * rotated certificates take effect on the next connection without a restart, as libpq, which reads
 * them per connection, does. Building the secure context once per load, not per connection, spares
 * each TLS connection the parsing of every certificate.
 */
export class TlsMaterialLoader {
  readonly settings: ResolvedTls;
  readonly #files: readonly TlsMaterial[];
  #loaded: LoadedTls;
  #stamp: string;

  constructor(settings: ResolvedTls) {
    this.settings = settings;
    this.#files = [settings.rootCert, settings.cert, settings.key].filter(
      (m): m is TlsMaterial => m !== undefined && m !== 'system' && m.file !== undefined,
    );
    this.#loaded = build(settings, (m) => readMaterial(m, () => readFileSync(m.file as string)));
    this.#stamp = this.#files.map((m) => stampOf(() => statSync(m.file as string))).join('|');
  }

  /** The material as of now: re-read when a file's size or modification time changed since the last load. */
  async current(): Promise<LoadedTls> {
    if (this.#files.length === 0) return this.#loaded;
    const stamp = await this.#stampNow();
    if (stamp !== this.#stamp) {
      const contents = new Map<TlsMaterial, Buffer>();
      await Promise.all(this.#files.map(async (m) => contents.set(m, await readAsync(m))));
      this.#loaded = build(this.settings, (m) => contents.get(m) ?? (m.pem as string | Buffer));
      this.#stamp = stamp;
    }
    return this.#loaded;
  }

  async #stampNow(): Promise<string> {
    const stamps = await Promise.all(
      this.#files.map((m) =>
        stat(m.file as string).then(
          (s) => `${s.mtimeMs}:${s.size}`,
          () => 'missing',
        ),
      ),
    );
    return stamps.join('|');
  }
}

function stampOf(read: () => { mtimeMs: number; size: number }): string {
  try {
    const s = read();
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

function readMaterial(m: TlsMaterial, read: () => Buffer): string | Buffer {
  if (m.pem !== undefined) return m.pem;
  try {
    return read();
  } catch (error) {
    throw new ConfigError(m.variable, `${m.variable}="${m.file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function readAsync(m: TlsMaterial): Promise<Buffer> {
  try {
    return await readFile(m.file as string);
  } catch (error) {
    throw new ConfigError(m.variable, `${m.variable}="${m.file}" cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function build(settings: ResolvedTls, read: (m: TlsMaterial) => string | Buffer): LoadedTls {
  const rootCert = settings.rootCert;
  const ca = rootCert === undefined || rootCert === 'system' ? undefined : read(rootCert);
  const cert = settings.cert === undefined ? undefined : read(settings.cert);
  const key = settings.key === undefined ? undefined : read(settings.key);
  const passphrase = settings.password?.value;
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({ ca, cert, key, passphrase });
  } catch (error) {
    throw materialError(settings, error);
  }
  return Object.freeze({
    ca,
    cert,
    key,
    passphrase,
    secureContext,
    rejectUnauthorized: settings.verify !== 'none',
    checkServerIdentity: settings.verify === 'chain-and-host' ? checkServerIdentity : skipIdentity,
  });
}

/** Which file OpenSSL refused, judged from its message; never quotes the material or the passphrase. */
function materialError(settings: ResolvedTls, error: unknown): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code ?? '';
  const keyProblem = /key|decrypt|pass ?phrase|PEM_read_bio_PrivateKey|interrupted|cancel/i.test(message) || /KEY|DECRYPT/.test(code);
  if (keyProblem && settings.key !== undefined) {
    const wrongPassword = /decrypt|interrupted|cancel|pass ?phrase|maybe wrong password/i.test(message);
    const hint = wrongPassword
      ? settings.password === undefined
        ? '; the key is encrypted: set its passphrase (sslpassword or tls.password)'
        : `; the passphrase (${settings.password.variable}) does not open it`
      : '';
    return new ConfigError(
      wrongPassword && settings.password !== undefined ? settings.password.variable : settings.key.variable,
      `${settings.key.variable}: the client key cannot be used (${message})${hint}`,
    );
  }
  const suspect = [settings.rootCert, settings.cert].find((m): m is TlsMaterial => m !== undefined && m !== 'system');
  const variable = suspect?.variable ?? settings.modeVariable;
  return new ConfigError(variable, `${variable}: the certificate cannot be loaded (${message}); accepted: PEM`);
}

/** Node's certificate verification failures (OpenSSL's X509_V_ERR_* names) and its host name check. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** 'certificate': the server's certificate failed verification; 'handshake': OpenSSL refused the session. */
export type TlsFailureKind = 'certificate' | 'handshake';

/** Whether `error` is a TLS failure, and which kind (network errors are not: they may pass). */
export function tlsFailureKind(error: unknown): TlsFailureKind | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return undefined;
  if (CERTIFICATE_CODES.has(code)) return 'certificate';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_OSSL_') || code.startsWith('ERR_TLS_')) return 'handshake';
  return undefined;
}

/** What is verified, in words, for messages. */
function verifyWords(settings: ResolvedTls): string {
  const against = settings.rootCert === 'system' ? "Node's trusted roots" : (settings.rootCert?.variable ?? 'no CA');
  if (settings.verify === 'chain-and-host') return `the chain against ${against} and the host name`;
  if (settings.verify === 'chain') return `the chain against ${against}, not the host name`;
  return 'nothing';
}

/**
 * The CONFIG_INVALID error for a connect that failed on TLS: it says what failed, at which server, and
 * which setting asked for it; the driver's error is the cause. None of it carries key material.
 */
export function tlsError(settings: ResolvedTls, where: string, kind: TlsFailureKind | 'no-tls', cause: unknown): TlsError {
  const label = modeLabel(settings);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  const detail = typeof code === 'string' && !reason.includes(code) ? `${reason} (${code})` : reason;
  switch (kind) {
    case 'no-tls':
      return new TlsError(
        settings.modeVariable,
        `${label} requires TLS, but the server at ${where} does not offer it (${detail}); enable TLS on the server or lower the mode`,
        cause,
      );
    case 'certificate':
      return new TlsError(
        settings.modeVariable,
        `TLS to ${where}: certificate verification failed (${label} checks ${verifyWords(settings)}): ${detail}; not retried`,
        cause,
      );
    default:
      return new TlsError(settings.modeVariable, `TLS to ${where}: the handshake failed (${label}): ${detail}; not retried`, cause);
  }
}
