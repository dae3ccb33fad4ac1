import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files of a throwaway PKI made with `openssl` for TLS tests (EC P-256 keys: quick to make). */
export interface TestPki {
  dir: string;
  /** The CA that signed the server and client certificates. */
  caCert: string;
  /** Another CA, which signed nothing the servers present: verifying against it must fail. */
  otherCaCert: string;
  /** Server certificate for CN=127.0.0.1 with SAN IP:127.0.0.1 and DNS:localhost (not 127.0.0.2). */
  serverCert: string;
  serverKey: string;
  /** Client certificate with CN = `clientUser`, its key, and the same key encrypted with `clientKeyPassphrase`. */
  clientUser: string;
  clientCert: string;
  clientKey: string;
  clientKeyEncrypted: string;
  clientKeyPassphrase: string;
  /** Removes every file. */
  remove(): void;
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 30_000 });
}

async function newKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
}

async function selfSignedCa(dir: string, name: string, cn: string): Promise<void> {
  await newKey(join(dir, `${name}.key`));
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '2',
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

async function signed(dir: string, name: string, cn: string, extensions: string): Promise<void> {
  await newKey(join(dir, `${name}.key`));
  await openssl(['req', '-new', '-key', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${cn}`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  await openssl([
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    // A serial of our own: -CAcreateserial's shared serial file races when two certificates are signed at once.
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    '2',
    '-extfile',
    join(dir, `${name}.ext`),
  ]);
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost, a client certificate for `clientUser`
 * (plain and passphrase-encrypted key) and an unrelated CA, in a fresh temp dir. Call remove().
 */
export async function createTestPki(clientUser = 'spillway_cert'): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-pki-'));
  const passphrase = `pki-pass-${Math.random().toString(36).slice(2, 10)}`;
  try {
    await Promise.all([selfSignedCa(dir, 'ca', 'Spillway Test CA'), selfSignedCa(dir, 'other-ca', 'Spillway Unrelated CA')]);
    await Promise.all([
      signed(
        dir,
        'server',
        '127.0.0.1',
        'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
      ),
      signed(dir, 'client', clientUser, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'),
    ]);
    await openssl([
      'pkey',
      '-in',
      join(dir, 'client.key'),
      '-out',
      join(dir, 'client-encrypted.key'),
      '-aes256',
      '-passout',
      `pass:${passphrase}`,
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    otherCaCert: join(dir, 'other-ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientUser,
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    clientKeyEncrypted: join(dir, 'client-encrypted.key'),
    clientKeyPassphrase: passphrase,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
