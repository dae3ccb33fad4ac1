import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrlsIn } from '../../src/config/url.js';
import { createPool, describeConfig, redactUrl, resolveConfig, SpillwayError } from '../../src/index.js';

/**
 * Marker passwords with each character that breaks URL parsing when left unencoded. A password is
 * "leaked" when either half of it shows, so the halves are distinctive and checked separately.
 */
const SPECIALS = ['/', '?', '#', '@', ':', ' '] as const;
const HEAD = 'Mk7head';
const TAIL = 'Zq9tail';
const marker = (special: string): string => `${HEAD}${special}${TAIL}`;

function assertNoMarker(text: string, where: string): void {
  assert.doesNotMatch(text, new RegExp(`${HEAD}|${TAIL}`), `${where} shows part of the password: ${text}`);
}

function configError(fn: () => unknown): SpillwayError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpillwayError, `expected a SpillwayError, got ${String(error)}`);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error;
  }
  assert.fail('expected CONFIG_INVALID');
}

describe('password redaction does not depend on the URL parsing', () => {
  for (const special of SPECIALS) {
    const password = marker(special);
    for (const url of [
      `postgres://u:${password}@db.example:5432/app`,
      `mysql://app:${password}@127.0.0.1/db`,
      `postgres://me@corp.example:${password}@db.example/app`, // a user with an unencoded @ (Azure style)
      `postgres://u@db.example/app?sslmode=require&password=${password}&application_name=x`,
      `u:${password}@db.example/app`, // the scheme forgotten
    ]) {
      it(`redactUrl hides ${JSON.stringify(special)} in ${url.slice(0, 12)}…`, () => {
        const shown = redactUrl(url);
        assertNoMarker(shown, 'redactUrl');
        assert.match(shown, /\*\*\*/);
        // In free text a URL ends at a space, and one without a scheme is not recognisable: those
        // only ever reach a message through redactUrl (the config errors).
        if (special !== ' ' && url.includes('://')) assertNoMarker(redactUrlsIn(`connecting to "${url}" failed`), 'redactUrlsIn');
      });
    }
  }

  it('keeps what is not a password readable', () => {
    assert.equal(
      redactUrl('postgres://app:pw@db.example:5432/app?sslmode=require'),
      'postgres://app:***@db.example:5432/app?sslmode=require',
    );
    assert.equal(redactUrl('postgres://app@db.example:5432/app'), 'postgres://app@db.example:5432/app');
    assert.equal(redactUrl('postgres://db.example:5432/app'), 'postgres://db.example:5432/app');
    assert.equal(redactUrl('sqlite:./data/app@2.db'), 'sqlite:./data/app@2.db');
    assert.equal(
      redactUrlsIn('PostgreSQL connection lost: getaddrinfo ENOTFOUND db.example, user a@b'),
      'PostgreSQL connection lost: getaddrinfo ENOTFOUND db.example, user a@b',
    );
  });

  for (const special of SPECIALS) {
    const password = marker(special);
    it(`createPool({ url }) and DATABASE_URL never echo a password with ${JSON.stringify(special)}`, () => {
      for (const url of [`postgres://u:${password}@db.example/db`, `mysql://app:${password}@127.0.0.1/db`]) {
        let shown: string;
        try {
          const db = createPool({ url, env: {}, metrics: false, tracing: false, healthCheckIntervalMs: 0 });
          // Parsed after all (an unencoded ':' is legal in a password): the config it shows is safe.
          shown = JSON.stringify(describeConfig(db.config));
          void db.close();
        } catch (error) {
          assert.ok(error instanceof SpillwayError && error.code === 'CONFIG_INVALID', String(error));
          shown = error.message;
          assert.match(shown, /^url="[a-z]+:\/\/[^"]*\*\*\*@/);
        }
        assertNoMarker(shown, 'createPool');
        const fromEnv = (() => {
          try {
            return JSON.stringify(describeConfig(resolveConfig({ env: { DATABASE_URL: url } })));
          } catch (error) {
            return (error as Error).message;
          }
        })();
        assertNoMarker(fromEnv, 'DATABASE_URL');
      }
    });
  }

  it('refuses a URL whose host or database would carry part of an unencoded password', () => {
    // WHATWG reads host "u", port 12 and a fragment: the label would show "12".
    for (const url of ['postgres://u:12#x@db.example/app', 'postgres://u:12?x@db.example/app', 'postgres://u:pw@x/y@db.example/app']) {
      const error = configError(() => resolveConfig({ url, env: {} }));
      assert.match(error.message, /has an @ after the host; percent-encode/);
      assert.doesNotMatch(error.message, /12#|12\?|pw@x|x\/y/);
    }
    // Encoded, the same passwords are fine.
    const encoded = resolveConfig({ url: `postgres://u:${encodeURIComponent('12#x')}@db.example/app`, env: {} });
    assert.equal(encoded.target.host, 'db.example');
    assert.equal(encoded.target.user, 'u');
  });

  it('the not-a-valid-URL message says how to fix it', () => {
    const error = configError(() => resolveConfig({ url: `postgres://u:${marker('/')}@db.example/app`, env: {} }));
    assert.match(error.message, /percent-encoded \(encodeURIComponent\)/);
  });
});
