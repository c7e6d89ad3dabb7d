// /ready reflects MySQL and Redis, and the process heals by itself when they come back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.js';
import { startProxiedHub, startProxy, type CuttableProxy, type ProxiedHub } from '../support/proxy.js';
import { ADMIN_URL, workerDatabase, workerId } from '../support/env.js';

async function readiness(hub: TestHub) {
  const res = await fetch(`${hub.apiUrl}/ready`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
}

/** Polls /ready until it has the wanted status: recovery takes reconnect time, not a fixed sleep. */
async function waitForReady(hub: TestHub, status: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await readiness(hub);
    if (result.status === status) return result;
    if (Date.now() > deadline)
      throw new Error(`/ready stayed ${result.status}: ${JSON.stringify(result.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('readiness with dependencies going away', () => {
  let mysql: CuttableProxy;
  let redis: CuttableProxy;
  let hub: TestHub;
  let proxied: ProxiedHub;

  beforeAll(async () => {
    proxied = await startProxiedHub();
    ({ hub, mysql, redis } = proxied);
  });
  afterAll(() => proxied.close());

  it('answers 503 naming MySQL while it is unreachable, and recovers when it returns', async () => {
    expect((await readiness(hub)).status).toBe(200);
    await mysql.cut();
    const down = await waitForReady(hub, 503);
    expect(down.body.checks.mysql).not.toBe('ok');
    expect(down.body.checks.redis).toBe('ok');
    await mysql.restore();
    expect((await waitForReady(hub, 200)).body.checks).toMatchObject({ mysql: 'ok', redis: 'ok' });
  });

  it('answers 503 naming Redis while it is unreachable, and recovers when it returns', async () => {
    await redis.cut();
    const down = await waitForReady(hub, 503);
    expect(down.body.checks.redis).not.toBe('ok');
    expect(down.body.checks.mysql).toBe('ok');
    await redis.restore();
    expect((await waitForReady(hub, 200)).body.checks).toMatchObject({ mysql: 'ok', redis: 'ok' });
  });
});

describe('starting while a dependency is down', () => {
  it('stays up with /ready 503, then migrates and becomes ready when MySQL appears', async () => {
    const mysql = await startProxy({ host: '127.0.0.1', port: 3306 });
    await mysql.cut();
    const url = new URL(ADMIN_URL);
    url.port = String(mysql.port);
    const hub = await startHub(
      { DATABASE_URL: `${url.href.replace(/\/$/, '')}/${workerDatabase(workerId())}` },
      ['api'],
    );
    try {
      const down = await waitForReady(hub, 503);
      expect(down.body.checks.migrations).not.toBe('ok');
      await mysql.restore();
      await hub.running.prepared;
      expect((await waitForReady(hub, 200)).body.checks.migrations).toBe('ok');
    } finally {
      await hub.close();
      await mysql.close();
    }
  });
});
