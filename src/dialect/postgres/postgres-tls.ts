import type { ConnectionOptions } from 'node:tls';
import type { ResolvedTls, TlsMode } from '../../config/tls-config.js';
import { type TlsMaterialLoader, tlsError, tlsFailureKind } from '../tls-material.js';

/** pg's errors when the server answers the SSLRequest with 'N' (no TLS here) or anything else but 'S'. */
const NO_TLS_ON_SERVER = 'The server does not support SSL connections';
const TLS_REQUEST_REFUSED = 'There was an error establishing an SSL connection';
/** Node's error when the server hangs up in the middle of the handshake. */
const HANDSHAKE_CUT = 'before secure TLS connection was established';

/**
 * Whether each connect attempt uses TLS, in order: libpq's `allow` tries plain first and TLS second,
 * `prefer` TLS first and plain second (pg itself knows neither: it either demands TLS or never asks).
 */
export function tlsAttempts(mode: TlsMode): readonly boolean[] {
  switch (mode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, true];
    case 'prefer':
      return [true, false];
    default:
      return [true];
  }
}

/** A refusal the server sent (pg's DatabaseError: a SQLSTATE and a severity), for example pg_hba.conf's. */
function isServerRefusal(error: unknown): boolean {
  return error instanceof Error && typeof (error as { severity?: unknown }).severity === 'string';
}

/**
 * libpq's second attempt (fe-connect.c): `prefer` goes on without TLS when the server offers none,
 * when the TLS handshake fails, or when the server refuses the session over TLS (a `hostnossl`
 * rule); `allow` tries TLS when the server refuses the plain session (a `hostssl` rule). Refused
 * TCP connections and timeouts get no second attempt: the other way would meet the same.
 */
export function worthOtherAttempt(mode: TlsMode, error: unknown): boolean {
  if (mode === 'allow') return isServerRefusal(error);
  if (mode !== 'prefer') return false;
  if (isServerRefusal(error) || tlsFailureKind(error) !== undefined) return true;
  const message = error instanceof Error ? error.message : '';
  return message === NO_TLS_ON_SERVER || message === TLS_REQUEST_REFUSED || message.includes(HANDSHAKE_CUT);
}

/**
 * A failed TLS attempt that no other attempt can cure, as CONFIG_INVALID naming the setting (not
 * retried at start, not counted by the breaker); undefined for anything else (refused, timed out,
 * a wrong password), which keeps its usual mapping.
 */
export function postgresTlsError(settings: ResolvedTls, where: string, error: unknown): Error | undefined {
  const message = error instanceof Error ? error.message : '';
  if (message === NO_TLS_ON_SERVER) return tlsError(settings, where, 'no-tls', error);
  if (message === TLS_REQUEST_REFUSED) return tlsError(settings, where, 'handshake', error);
  const kind = tlsFailureKind(error);
  return kind === undefined ? undefined : tlsError(settings, where, kind, error);
}

/**
 * pg's `ssl` option for one TLS attempt: the pool's secure context (trusted CAs, client certificate
 * and key, built once per load) and the verification libpq's mode asks for. A fresh object each
 * time: pg redefines properties on the one it is given.
 */
export async function pgSslOptions(loader: TlsMaterialLoader): Promise<ConnectionOptions> {
  const material = await loader.current();
  return {
    secureContext: material.secureContext,
    rejectUnauthorized: material.rejectUnauthorized,
    checkServerIdentity: material.checkServerIdentity,
  };
}
