// `tocsin start` as a real process: boots, prints where things are, serves both ports, and
// stops cleanly on SIGTERM — closing sockets with 4200 and finishing in-flight requests.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDb } from '../../src/core/db.js';
import { testConfig } from '../support/env.js';
import { appPath, createGatewayProject } from '../support/gateway.js';
import { freePort, runTocsin } from '../support/process.js';

async function startProcess(env: Record<string, string> = {}) {
  const [httpPort, gatewayPort] = [await freePort(), await freePort()];
  const proc = runTocsin(['start'], {
    HTTP_PORT: String(httpPort),
    GATEWAY_PORT: String(gatewayPort),
    ...env,
  });
  await proc.waitForOutput(/Tocsin is running/);
  return { proc, api: `http://127.0.0.1:${httpPort}`, gatewayPort };
}

describe('tocsin start', () => {
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
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const exit = await proc.exited;
    stuck.destroy();
    expect(exit.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(proc.output()).toContain('Shutdown deadline passed');
  });

  it('stops with one line naming a bad variable', async () => {
    const proc = runTocsin(['start'], { HTTP_PORT: 'not-a-port' });
    const exit = await proc.exited;
    expect(exit.code).toBe(78);
    expect(proc.output().trim()).toMatch(/^Invalid configuration: HTTP_PORT: .*\(got "not-a-port"\)$/);
  });
});
