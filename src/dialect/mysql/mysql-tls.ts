import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ResolvedTls, TlsMode } from '../../config/tls-config.js';
import { ConfigError, TlsError } from '../../errors.js';
import { type LoadedTls, type TlsMaterialLoader, tlsError } from '../tls-material.js';

/** mysql2's codes: the server's handshake lacks the SSL capability; the TLS upgrade failed (the original code is overwritten). */
const NO_TLS_ON_SERVER = 'HANDSHAKE_NO_SSL_SUPPORT';
const TLS_UPGRADE_FAILED = 'HANDSHAKE_SSL_ERROR';
/** Node's certificate messages, since mysql2 replaces their codes with HANDSHAKE_SSL_ERROR. */
const CERTIFICATE_MESSAGE = /certificate|altnames|Hostname\/IP|self[- ]signed|unable to verify|unable to get/i;

/** mysql2's `ssl` option, one object per loaded material: mysql2 caches its secure context by object identity. */
const sslObjects = new WeakMap<LoadedTls, Record<string, unknown>>();

/**
 * Whether each connect attempt uses TLS: MySQL's PREFERRED tries TLS and goes on without it when the
 * server offers none (mysql2 itself fails then); REQUIRED and the VERIFY modes insist.
 */
export function mysqlTlsAttempts(mode: TlsMode): readonly boolean[] {
  if (mode === 'disable') return [false];
  return mode === 'prefer' ? [true, false] : [true];
}

/** PREFERRED's second attempt: only when the server's handshake said it has no TLS. */
export function worthPlainAttempt(mode: TlsMode, error: unknown): boolean {
  return mode === 'prefer' && (error as { code?: unknown } | undefined)?.code === NO_TLS_ON_SERVER;
}

/** A TLS failure as CONFIG_INVALID naming the setting; undefined for other errors. */
export function mysqlTlsError(settings: ResolvedTls, where: string, error: unknown): Error | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === NO_TLS_ON_SERVER) return tlsError(settings, where, 'no-tls', error);
  if (code !== TLS_UPGRADE_FAILED) return undefined;
  const message = error instanceof Error ? error.message : String(error);
  return tlsError(settings, where, CERTIFICATE_MESSAGE.test(message) ? 'certificate' : 'handshake', error);
}

/**
 * mysql2's `ssl` for a TLS attempt: the CA, client certificate and key, and what is verified. For an
 * IP address mysql2's host name check is left off: {@link checkIpIdentity} does it instead.
 */
export async function mysqlSslOption(loader: TlsMaterialLoader, host: string): Promise<Record<string, unknown>> {
  const material = await loader.current();
  let ssl = sslObjects.get(material);
  if (ssl === undefined) {
    // Not frozen: mysql2 writes rejectUnauthorized back into it.
    ssl = {
      ca: material.ca,
      cert: material.cert,
      key: material.key,
      passphrase: material.passphrase,
      rejectUnauthorized: material.rejectUnauthorized,
      verifyIdentity: loader.settings.verify === 'chain-and-host' && isIP(host) === 0,
    };
    sslObjects.set(material, ssl);
  }
  return ssl;
}

/** `ssl` in dialectOptions is mysql2's own setting; with a TLS mode as well, which one is meant is unclear. */
export function checkNoSslConflict(settings: ResolvedTls, dialectOptions: Readonly<Record<string, unknown>>): void {
  if (settings.mode !== 'disable' && dialectOptions.ssl !== undefined) {
    throw new ConfigError(
      'dialectOptions.ssl',
      `dialectOptions.ssl (mysql2's own TLS setting) and ${settings.modeVariable} both configure TLS; use one of them`,
    );
  }
}

/** The part of a mysql2 connection the IP identity check wraps (mysql2 3.x, lib/base/connection.js). */
interface TlsUpgradable {
  startTLS?: (onSecure: (error?: Error) => void) => void;
  stream?: { getPeerCertificate?: (detailed: boolean) => PeerCertificate };
}

/**
 * mysql2 checks VERIFY_IDENTITY against the name it sends as SNI and sends none for an IP address
 * (RFC 6066), so Node then checks the certificate against "localhost": any certificate naming
 * localhost would pass for every address. For an IP host Spillway checks the address itself, in
 * mysql2's TLS step before the credentials go out, by wrapping this connection's startTLS (mysql2 3.x
 * sets the TLS socket as its stream before the handshake completes). When mysql2 changes shape this
 * refuses to connect rather than skip the check; the VERIFY_IDENTITY test through 127.0.0.2 fails too.
 */
export function checkIpIdentity(connection: TlsUpgradable, settings: ResolvedTls, host: string): void {
  if (settings.verify !== 'chain-and-host' || isIP(host) === 0) return;
  const startTls = connection.startTLS;
  if (typeof startTls !== 'function') {
    throw new TlsError(
      settings.modeVariable,
      `this mysql2 version cannot be checked for VERIFY_IDENTITY on the IP address ${host}; connect by host name`,
    );
  }
  connection.startTLS = (onSecure) =>
    startTls.call(connection, (error?: Error) => {
      if (error !== undefined && error !== null) return onSecure(error);
      const certificate = connection.stream?.getPeerCertificate?.(true);
      const mismatch = certificate === undefined ? new Error('no server certificate to check') : checkServerIdentity(host, certificate);
      onSecure(mismatch ?? undefined);
    });
}
