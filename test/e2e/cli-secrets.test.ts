import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../support/cli-process.js';
import { freeLoopbackPort } from '../support/ports.js';

/**
 * Marker passwords with each character that breaks URL parsing when left unencoded, given to the CLI
 * as a user would (`status --url`, `DATABASE_URL=... serve`): neither half of the password may
 * appear in anything the process prints, whether the URL is refused or the connection fails.
 */
const HEAD = 'Mk7head';
const TAIL = 'Zq9tail';
const SPECIALS = ['/', '?', '#', '@', ':'];

test('cli: status --url and serve never print a password that has an unencoded / ? # @ or :', async () => {
  const port = await freeLoopbackPort(); // nothing listens there
  for (const special of SPECIALS) {
    for (const scheme of ['postgres', 'mysql']) {
      const url = `${scheme}://app:${HEAD}${special}${TAIL}@127.0.0.1:${port}/db`;
      const status = await runCli(['status', '--url', url], { DB_CONNECT_TIMEOUT: '2' });
      const served = await runCli(['serve', '--port', '0'], { DATABASE_URL: url, DB_POOL_INIT_TIMEOUT: '0', DB_CONNECT_TIMEOUT: '2' });
      for (const [what, result] of [
        ['status --url', status],
        ['serve', served],
      ] as const) {
        const output = result.stdout + result.stderr;
        assert.equal(result.code, 1, `${what} ${JSON.stringify(special)}: ${output}`);
        assert.doesNotMatch(output, new RegExp(`${HEAD}|${TAIL}`), `${what} ${JSON.stringify(special)} leaked: ${output}`);
      }
      assert.match(served.stderr, /^spillway serve: .*:\/\/app:\*\*\*@/, `serve names the URL, password hidden: ${served.stderr}`);
    }
  }
});
