// `tocsin start` as a real process: boots, prints where things are, serves both ports, and
// stops cleanly on SIGTERM — closing sockets with 4200 and finishing in-flight requests.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDb } from '../../src/core/db.js';
import { testConfig } from '../support/env.js';
import { appPath, createGatewayProject } from '../support/gateway.js';
import { listeningPort, runTocsin, stopChildren } from '../support/process.js';

/** One child's start on a loaded 2-core machine (tsx compiles the sources on every start; 35-45 s seen). */
const START_MS = 90_000;

async function startProcess(env: Record<string, string> = {}) {
  // Port 0: the OS picks free ports and the process logs which (no probe-then-bind race).
  const proc = runTocsin(['start'], { HTTP_PORT: '0', GATEWAY_PORT: '0', ...env });
  const [httpPort, gatewayPort] = await Promise.all([
    listeningPort(proc, 'API', START_MS),
    listeningPort(proc, 'Gateway', START_MS),
  ]);
  await proc.waitForOutput(/Tocsin is running/, START_MS);
  return { proc, api: `http://127.0.0.1:${httpPort}`, gatewayPort };
}

afterEach(stopChildren);

// The longest test starts two processes one after the other.
describe('tocsin start', { timeout: 2 * START_MS + 30_000 }, () => {
  it('creates the super admin once, printing a generated password only the first time', async () => {
    const email = `admin-${Date.now()}@example.test`;
    const env = { TOCSIN_ADMIN_EMAIL: email, TOCSIN_ADMIN_PASSWORD: '' };
    const first = await startProcess(env);
    expect(first.proc.output()).toMatch(new RegExp(`Super admin created: ${email} / [0-9A-Za-z]{20,}`));
    first.proc.child.kill('SIGTERM');
    expect((await first.proc.exited).code).toBe(0);

    const second = await startProcess(env);
    expect(second.proc.output()).not.toContain('Super admin created');
    second.proc.child.kill('SIGTERM');
    expect((await second.proc.exited).code).toBe(0);

    const db = createDb(testConfig().database);
    try {
      expect(await db.system.admin.count({ where: { email } })).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('serves /ready and the gateway /health, then on SIGTERM closes sockets with 4200 and exits 0', async () => {
    const { proc, api, gatewayPort } = await startProcess();
    expect((await fetch(`${api}/ready`)).status).toBe(200);
    const health = await fetch(`http://127.0.0.1:${gatewayPort}/health`);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const config = testConfig();
    const db = createDb(config.database);
    const project = await createGatewayProject({ db, config }).finally(() => db.close());
    const socket = new WebSocket(`ws://127.0.0.1:${gatewayPort}${appPath(project.key)}`);
    // A Pusher connection is established by its first message (a refused one is closed instead).
    await new Promise((resolve, reject) => socket.once('message', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

    // An in-flight request: half of it sent before the signal, the rest after.
    const inflight = net.connect(Number(new URL(api).port), '127.0.0.1');
    await new Promise((resolve) => inflight.once('connect', resolve));
    inflight.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    let response = '';
    inflight.on('data', (chunk) => (response += chunk.toString()));
    const responded = new Promise((resolve) => inflight.once('end', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the server read the partial request

    proc.child.kill('SIGTERM');
    expect(await closed).toBe(4200);
    inflight.end('Connection: close\r\n\r\n');
    await responded;
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('{"status":"ok"}');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  });

  it('exits non-zero at the deadline when an in-flight request never finishes', async () => {
    const { proc, api } = await startProcess({ SHUTDOWN_TIMEOUT_MS: '500' });
    const stuck = net.connect(Number(new URL(api).port), '127.0.0.1');
    await new Promise((resolve) => stuck.once('connect', resolve));
    stuck.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    stuck.destroy();
    expect(exit.code).toBe(1);
    expect(proc.output()).toContain('Shutdown deadline passed');
  });

  it('stops with one line naming a bad variable', async () => {
    const proc = runTocsin(['start'], { HTTP_PORT: 'not-a-port' });
    const exit = await proc.exited;
    expect(exit.code).toBe(78);
    expect(proc.output().trim()).toMatch(/^Invalid configuration: HTTP_PORT: .*\(got "not-a-port"\)$/);
  });
});
