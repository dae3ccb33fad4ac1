import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
import { startServiceOn } from '../support/in-process-service.js';

/** Send `data` on a raw socket and collect what the server answers until it closes the connection. */
function sendAndWaitForClose(url: string, data: string, giveUpMs: number): Promise<{ answer: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let answer = '';
    // Only a bound on a failing test: the outcome checked is that the server closes, not when.
    const giveUp = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closed: false });
    }, giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('connect', () => socket.write(data));
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ answer, closed: true });
    });
    socket.on('error', reject);
  });
}

it('a client that never finishes its headers or its body gets 408 and its connection closed (REQUEST_TIMEOUT, HEADERS_TIMEOUT)', async (t) => {
  const service = await startServiceOn(t, 'sqlite', { DB_HEALTH_CHECK_INTERVAL: '0', REQUEST_TIMEOUT: '1', HEADERS_TIMEOUT: '1' });
  if (service === undefined) return;

  const slowHeaders = await sendAndWaitForClose(service.url, 'GET /health HTTP/1.1\r\nHost: localhost\r\n', 30_000);
  assert.ok(slowHeaders.closed, 'the server closed a connection whose headers never ended');
  assert.match(slowHeaders.answer, /^HTTP\/1\.1 408 /);

  const body = JSON.stringify({ username: 'slow_body', email: 's@example.com', fullName: 'Slow Body' });
  const slowBody = await sendAndWaitForClose(
    service.url,
    `POST /api/users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    30_000,
  );
  assert.ok(slowBody.closed, 'the server closed a connection whose body never ended');
  assert.match(slowBody.answer, /^HTTP\/1\.1 408 /);
  assert.equal((await fetch(`${service.url}/api/users/slow_body`)).status, 404, 'nothing was written');

  // A request sent whole is served as before.
  const created = await fetch(`${service.url}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(created.status, 201);
});
