// The newcomer's path end to end in a real browser: the example page (examples/browser, served by
// examples/serve.ts) in headless Chromium (test/support/browser.ts) logs a member in through its
// form, subscribes with the pusher-js browser build, shows an event POSTed by examples/producer.ts
// as it arrives — as text, never as markup — and its Acknowledge button is recorded in MySQL.
// A page of another origin plays a notification's sound from its signed URL.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { startExampleServer } from '../../examples/serve.js';
import { uploadSound, wav } from '../integration/sounds/audio.js';
import { api, createTestProject, superAdminToken, type TestProject } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';
import { eventually } from '../support/gateway.js';
import { startHub, type TestHub } from '../support/hub.js';

const PASSWORD = 'Correct-horse-42';
const PRODUCER = fileURLToPath(new URL('../../examples/producer.ts', import.meta.url));
const run = promisify(execFile);

let hub: TestHub;
let project: TestProject;
let example: Awaited<ReturnType<typeof startExampleServer>>;
let browser: Browser;
let member: { id: string; email: string };

beforeAll(async () => {
  // Started while the hub starts: launching Chromium is the slowest step.
  const launching = launchBrowser();
  hub = await startHub();
  project = await createTestProject(hub, await superAdminToken(hub));
  const asAdmin = { token: project.adminToken };
  const roles = await api(hub, 'GET', '/api/v1/roles', undefined, asAdmin);
  const memberRoleId = roles.body.items.find((r: { name: string }) => r.name === 'member').id;
  const rule = await api(
    hub,
    'POST',
    '/api/v1/rules',
    {
      name: 'Failed transfers',
      condition: 'event.type == "transfer.failed"',
      targetRoles: [memberRoleId],
      title: 'Transfer failed',
      body: 'Amount {{event.payload.amount}}, note {{event.payload.note}}',
    },
    asAdmin,
  );
  expect(rule.status).toBe(201);

  const email = `ada@${project.slug}.test`;
  const registered = await api(hub, 'POST', '/api/v1/auth/register', {
    email,
    password: PASSWORD,
    fullName: 'Ada',
    projectSlug: project.slug,
  });
  expect(registered.status).toBe(201);
  const approved = await api(
    hub,
    'POST',
    `/api/v1/users/${registered.body.id}/approve`,
    { roleIds: [memberRoleId] },
    asAdmin,
  );
  expect(approved.status).toBe(200);
  member = { id: registered.body.id, email };

  example = await startExampleServer(
    {
      apiUrl: hub.apiUrl,
      wsHost: '127.0.0.1',
      wsPort: hub.gatewayPort,
      key: project.gateway.key,
      projectSlug: project.slug,
    },
    0,
  );
  browser = await launching;
});

afterAll(async () => {
  await browser?.close();
  await example?.close();
  await hub?.close();
});

/** Runs examples/producer.ts as a user would, against the test hub. */
function produce(args: string[], apiKey = project.apiKey) {
  return run(process.execPath, ['--import', 'tsx', PRODUCER, ...args], {
    env: { ...process.env, TOCSIN_URL: hub.apiUrl, TOCSIN_API_KEY: apiKey },
  });
}

/**
 * A new page on the example, ready for input (app.js enables the form once it has the config).
 * On failure: a screenshot in a temp folder and what the page logged, in the test output.
 */
async function openExample() {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const logged: string[] = [];
  page.on('console', (message) => logged.push(`console.${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => logged.push(`pageerror: ${error.message}`));
  onTestFailed(async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tocsin-e2e-')), 'browser.png');
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.error(`Screenshot: ${file}\nThe page logged:\n${logged.join('\n') || '(nothing)'}`);
  });
  await page.goto(example.url);
  await page.locator('button[type=submit]:enabled').waitFor();
  return { page, logged };
}

const receipt = () =>
  hub.running.db.forProject(project.id).notificationReceipt.findFirst({
    where: { userId: member.id },
    include: { notification: { select: { eventId: true } } },
  });

describe('the example browser client', () => {
  it('logs in, shows a notification live as text, and acknowledges it', async () => {
    const { page, logged } = await openExample();

    expect(await page.inputValue('input[name=projectSlug]')).toBe(project.slug);
    await page.fill('input[name=email]', member.email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('#status[data-state=subscribed]').waitFor();
    expect(await page.textContent('#status')).toContain(`private-user-${member.id}`);
    expect(await page.isHidden('#login')).toBe(true);

    const markup = '<img src=x onerror="document.title=1">';
    const { stdout } = await produce(['transfer.failed', JSON.stringify({ amount: 5000, note: markup })]);
    const eventId = /^202 accepted event ([0-9a-f-]{36})$/m.exec(stdout)?.[1];
    expect(eventId, stdout).toBeDefined();

    const item = page.locator('#notifications li', { hasText: 'Transfer failed' });
    await item.waitFor();
    expect(await item.locator('p').textContent()).toBe(`Amount 5000, note ${markup}`);
    expect(await item.locator('img').count()).toBe(0);
    expect(await item.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    await item.getByRole('button', { name: 'Acknowledge' }).click();
    await item.getByRole('button', { name: 'Acknowledged' }).waitFor();
    await eventually(async () => Boolean((await receipt())?.acknowledgedAt), 'the acknowledgement is stored');
    const stored = await receipt();
    expect(stored).toMatchObject({ channel: 'gateway', notification: { eventId } });
    expect(await item.getAttribute('data-id')).toBe(stored!.notificationId);
    expect(logged.filter((line) => line.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('shows a failed login and stays on the form', async () => {
    const { page } = await openExample();
    await page.fill('input[name=email]', member.email);
    await page.fill('input[name=password]', 'not-the-password');
    await page.click('button[type=submit]');
    await page.locator('#status[data-state=error]').waitFor();
    expect(await page.isVisible('#login')).toBe(true);
    await page.close();
  });
});

interface PageAudio {
  duration: number;
  error: { code: number; message: string } | null;
  addEventListener(type: 'loadeddata' | 'error', listener: () => void): void;
}

describe('a signed sound URL', () => {
  let otherOrigin: Server;
  afterAll(() => new Promise<void>((resolve) => otherOrigin?.close(() => resolve())));

  it('plays in a page of another origin (new Audio(url))', async () => {
    const upload = await uploadSound(hub, project.adminToken, { name: 'chime', bytes: wav(8044) });
    expect(upload.status).toBe(201);
    // The test hub's public URL has port 0: the file is served by the hub's real port.
    const signed = new URL(upload.body.url);
    const url = `${hub.apiUrl}${signed.pathname}${signed.search}`;
    // Another site altogether: localhost, while the hub is reached as 127.0.0.1.
    otherOrigin = createServer((_req, res) => res.end('<!doctype html><title>Another app</title>'));
    await new Promise<void>((resolve) => otherOrigin.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    await page.goto(`http://localhost:${(otherOrigin.address() as AddressInfo).port}/`);
    const outcome = await page.evaluate(
      (src) =>
        new Promise<string>((resolve) => {
          // Runs in the page (the project's types have no DOM library).
          const { Audio } = globalThis as unknown as { Audio: new (src: string) => PageAudio };
          const audio = new Audio(src);
          audio.addEventListener('loadeddata', () => resolve(`loaded ${audio.duration}s`));
          audio.addEventListener('error', () =>
            resolve(`error ${audio.error?.code}: ${audio.error?.message}`),
          );
        }),
      url,
    );
    expect(outcome).toBe('loaded 1s');
    await page.close();
  });
});

describe('the example server', () => {
  /** Raw requests: fetch would normalise the `..` away before sending. */
  const get = (path: string, method = 'GET') =>
    new Promise<number>((resolve, reject) => {
      const req = request(new URL(example.url), { path, method }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject).end();
    });

  it('serves the page, its script, pusher-js and the config, and nothing else', async () => {
    for (const path of ['/', '/index.html', '/app.js', '/pusher.min.js', '/config.json']) {
      expect([path, await get(path)]).toEqual([path, 200]);
    }
    for (const path of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fpackage.json',
      '/browser/',
      '/serve.ts',
      '/node_modules/pusher-js/package.json',
      '//etc/passwd',
    ]) {
      expect([path, await get(path)]).toEqual([path, 404]);
    }
    expect(await get('/', 'POST')).toBe(405);
  });
});

describe('the example producer', () => {
  it('names the error and exits 1 when Tocsin refuses the event', async () => {
    const failed = await produce(['transfer.failed'], 'not-a-key').then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^producer: 401 Unauthorized — \w+: .+ \(request .+\)$/m);
  });
});
