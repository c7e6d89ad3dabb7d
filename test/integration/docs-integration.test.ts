// docs/integration.md's samples, run as written against a hub, so what a newcomer copies can't rot:
// the shell blocks with bash, curl and jq, the Node ones with node, the Python one with python3.
// Each runs in its own project made like the README's (admin ops@example.com, the "Big failures"
// rule); only the addresses, the slug and the placeholders the doc says to fill are substituted.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, superAdminToken, type TestProject } from '../support/api.js';
import { connectPusher, connected, eventually, nextEvent, subscribed } from '../support/gateway.js';
import { startHub, type TestHub } from '../support/hub.js';

const run = promisify(execFile);
/** The repository: `node --input-type=module` resolves `pusher-js` and `pusher` from here. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EMAIL = 'ops@example.com';
const PASSWORD = 'Blue-harbour-73';

let hub: TestHub;
let sa: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  hub = await startHub();
  sa = await superAdminToken(hub);
});
afterAll(async () => {
  for (const child of children) child.kill();
  await hub.close();
});

/** The `index`th ```lang block of the section whose heading starts with `## {section}`. */
function sample(section: string, lang: string, index = 0): string {
  const doc = readFileSync(new URL('../../docs/integration.md', import.meta.url), 'utf8');
  const start = doc.indexOf(`\n## ${section}`);
  if (start < 0) throw new Error(`docs/integration.md has no section "${section}"`);
  const end = doc.indexOf('\n## ', start + 1);
  const part = doc.slice(start, end < 0 ? undefined : end);
  const block = [...part.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))][index]?.[1];
  if (!block) throw new Error(`docs/integration.md has no ${lang} block #${index} in "${section}"`);
  return block;
}

/** A project like the README walkthrough's: its admin, and a rule alerting the admin role. */
async function docsProject(): Promise<TestProject> {
  const project = await createTestProject(
    hub,
    sa,
    { name: 'Payments' },
    { email: EMAIL, password: PASSWORD },
  );
  const { adminToken } = project;
  const roles = await api(hub, 'GET', '/api/v1/roles', undefined, { token: adminToken });
  const admin = roles.body.items.find((r: { name: string }) => r.name === 'admin');
  const rule = await api(
    hub,
    'POST',
    '/api/v1/rules',
    {
      name: 'Big failures',
      condition: 'event.type == "transfer.failed" && event.payload.amount > 10000',
      targetRoles: [admin.id],
      title: 'Transfer failed',
      body: '{{event.payload.amount}} EUR',
    },
    { token: adminToken },
  );
  expect(rule.status).toBe(201);
  return project;
}

/** The doc's addresses and project slug replaced by the test hub's and the project's. */
function local(text: string, project: TestProject): string {
  const port = new URL(hub.apiUrl).port;
  return text
    .replaceAll('http://localhost:3000', hub.apiUrl)
    .replaceAll("'3000'", `'${port}'`)
    .replaceAll("'localhost'", "'127.0.0.1'")
    .replaceAll('6001', String(hub.gatewayPort))
    .replaceAll("'payments'", `'${project.slug}'`)
    .replaceAll('"payments"', `"${project.slug}"`);
}

/** The event arrived with the sample's payload, and its notification is in the admin's inbox. */
async function expectAlerted(project: TestProject, id: string): Promise<void> {
  let event: any;
  await eventually(async () => {
    event = (await api(hub, 'GET', `/api/v1/events/${id}`, undefined, { token: project.adminToken })).body;
    return event?.status === 'processed';
  }, `event ${id} is processed`);
  expect(event).toMatchObject({
    type: 'transfer.failed',
    payload: { amount: 12000, account: 'ACME-7' },
    idempotencyKey: 'transfer-8812-failed',
  });
  const inbox = await api(hub, 'GET', '/api/v1/notifications', undefined, { token: project.adminToken });
  expect(inbox.body.items.map((n: any) => ({ title: n.title, body: n.body }))).toEqual([
    { title: 'Transfer failed', body: '12000 EUR' },
  ]);
}

/** The walkthrough's event (matched by the "Big failures" rule), sent with the project's API key. */
async function sendBigFailure(project: TestProject): Promise<void> {
  const sent = await api(
    hub,
    'POST',
    '/api/v1/events',
    { type: 'transfer.failed', payload: { amount: 12000 } },
    { apiKey: project.apiKey },
  );
  expect(sent.status).toBe(202);
}

/** Section 1's environment: the address and the project's API key, as its sh block exports them. */
const producerEnv = (project: TestProject) => ({
  ...process.env,
  TOCSIN_URL: hub.apiUrl,
  TOCSIN_API_KEY: project.apiKey,
});

async function sendWithCurl(project: TestProject): Promise<string> {
  const script = local(sample('1.', 'sh'), project).replace('tk_…', project.apiKey);
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script]);
  expect(stdout).toMatch(/^\{"id":"[0-9a-f-]{36}"\}$/);
  return (JSON.parse(stdout) as { id: string }).id;
}

async function sendWithNode(project: TestProject): Promise<string> {
  const code = sample('1.', 'js');
  const { stdout } = await run('node', ['--input-type=module', '-e', code], { env: producerEnv(project) });
  return stdout.trim();
}

async function sendWithPython(project: TestProject): Promise<string> {
  const { stdout } = await run('python3', ['-c', sample('1.', 'python')], { env: producerEnv(project) });
  return stdout.trim();
}

/** Starts a long-running sample; its stdout accumulates in `output()`. Killed after the tests. */
function background(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn('node', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return { child, output: () => out, errors: () => err };
}

describe('docs/integration.md, 1. Sending events', () => {
  it('sends an event with curl', async () => {
    const project = await docsProject();
    await expectAlerted(project, await sendWithCurl(project));
  });

  it('sends it from the Node producer', async () => {
    const project = await docsProject();
    const id = await sendWithNode(project);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expectAlerted(project, id);
  });

  it('sends it from the Python producer (standard library only)', async () => {
    const project = await docsProject();
    const id = await sendWithPython(project);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expectAlerted(project, id);
  });

  it('gives one event for the three samples, which share an idempotency key', async () => {
    const project = await docsProject();
    const id = await sendWithCurl(project);
    expect(await sendWithNode(project)).toBe(id);
    expect(await sendWithPython(project)).toBe(id);
    await expectAlerted(project, id);
  });
});

describe('docs/integration.md, 2. Receiving notifications live', () => {
  it('shows a waiting notification with pusher-js and acknowledges it over the socket', async () => {
    const project = await docsProject();
    await sendBigFailure(project);
    const inbox = () => api(hub, 'GET', '/api/v1/notifications', undefined, { token: project.adminToken });
    await eventually(async () => (await inbox()).body.items.length === 1, 'the notification is in the inbox');
    // The page, as written: it logs in, subscribes to its user channel and is replayed what it
    // has not acknowledged.
    const code = local(sample('2.', 'js'), project).replace('your-gateway-key', project.gateway.key);
    const page = background(['--input-type=module', '-e', code]);
    await eventually(
      async () => page.output().includes('Transfer failed 12000 EUR'),
      'the page shows the notification',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${page.errors()}`);
    });
    await eventually(
      async () => (await inbox()).body.items[0].acknowledgedAt !== null,
      'the page acknowledged it (tocsin:ack)',
    );
    page.child.kill();
  });
});

describe('docs/integration.md, 2. With Laravel Echo', () => {
  it('lists presence members with their id and receives notifications with .listen(".notification")', async () => {
    const project = await docsProject();
    const me = await api(hub, 'GET', '/api/v1/users/me', undefined, { token: project.adminToken });
    const code = local(sample('2.', 'js', 2), project).replace('your-gateway-key', project.gateway.key);
    const page = background(['--input-type=module', '-e', code]);
    const shows = (text: string, what: string) =>
      eventually(async () => page.output().includes(text), what).catch((err: Error) => {
        throw new Error(`${err.message}\n${page.output()}\n${page.errors()}`);
      });
    // user_info carries the id: Echo's here() hands out nothing else.
    await shows(`online: Project Admin (${me.body.id})`, 'Echo lists the presence member with its id');
    await sendBigFailure(project);
    await shows('Transfer failed 12000 EUR', 'Echo shows the notification');
    await eventually(
      async () =>
        (await api(hub, 'GET', '/api/v1/notifications', undefined, { token: project.adminToken })).body
          .items[0]?.acknowledgedAt != null,
      'the Echo page acknowledged it (tocsin:ack)',
    );
    page.child.kill();
  });
});

describe('docs/integration.md, 3. Mobile push and 4. per-project credentials', () => {
  it('registers a device and stores FCM, APNs and hosted-Pusher credentials from key files', async () => {
    const project = await docsProject();
    // The files the reader downloads from Firebase and Apple, with freshly made keys.
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-docs-'));
    try {
      const pkcs8 = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
      writeFileSync(
        join(dir, 'service-account.json'),
        JSON.stringify({
          type: 'service_account',
          project_id: 'docs-firebase',
          private_key: pkcs8(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
          client_email: 'tocsin@docs-firebase.iam.gserviceaccount.com',
        }),
      );
      writeFileSync(
        join(dir, 'AuthKey_ABC123DEFG.p8'),
        pkcs8(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      );
      const device = local(sample('3.', 'sh'), project).replace(
        '<the APNs device token, hex>',
        randomBytes(32).toString('hex'),
      );
      const script = `${device}\necho\n${local(sample('4.', 'sh'), project)}`;
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: dir,
        env: { ...process.env, TOCSIN_URL: hub.apiUrl },
      });
      const [devices, providers] = stdout.split('\n');
      expect(JSON.parse(devices!)).toMatchObject({ items: [{ platform: 'ios' }] });
      // The three answers follow each other; the last is the whole set.
      expect(providers).toMatch(/^\{"fcm":.*\}\{"fcm":.*\}\{"fcm":.*\}$/);
      const stored = await api(hub, 'GET', '/api/v1/providers', undefined, { token: project.adminToken });
      expect(stored.body).toEqual({
        fcm: { projectId: 'docs-firebase', clientEmail: 'tocsin@docs-firebase.iam.gserviceaccount.com' },
        apns: { keyId: 'ABC123DEFG', teamId: 'TEAM123456', bundleId: 'com.example.app', production: false },
        pusher: { appId: '123456', key: 'your-pusher-key', cluster: 'eu', useTLS: true },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/integration.md, 5. the Pusher HTTP API and 6. webhooks', () => {
  it('triggers an event with the official pusher SDK', async () => {
    const project = await docsProject();
    const gateway = { id: project.id, ...project.gateway };
    const client = connectPusher(hub.gatewayPort, gateway, { member: { user_id: 'listener' } });
    try {
      await connected(client);
      const channel = await subscribed(client, 'presence-project');
      const received = nextEvent(channel, 'deploy-started');
      await run('node', ['--input-type=module', '-e', local(sample('5.', 'js'), project)], {
        cwd: ROOT,
        env: {
          ...process.env,
          TOCSIN_GATEWAY_APP_ID: project.gateway.appId,
          TOCSIN_GATEWAY_KEY: project.gateway.key,
          TOCSIN_GATEWAY_SECRET: project.gateway.secret,
        },
      });
      expect(await received).toEqual({ by: 'ci' });
    } finally {
      client.disconnect();
    }
  });

  it('receives signed webhook batches and refuses unsigned ones', async () => {
    const project = await docsProject();
    const port = await freePort();
    const code = sample('6.', 'js').replace('.listen(8080)', `.listen(${port}, '127.0.0.1')`);
    const receiver = background(['--input-type=module', '-e', code], {
      ...process.env,
      TOCSIN_GATEWAY_SECRET: project.gateway.secret,
    });
    const url = `http://127.0.0.1:${port}/`;
    // A forged batch is refused (and the answer tells the receiver is up).
    const forged = JSON.stringify({
      time_ms: Date.now(),
      events: [{ name: 'channel_occupied', channel: 'x' }],
    });
    let status = 0;
    await eventually(async () => {
      status = await fetch(url, {
        method: 'POST',
        headers: { 'X-Pusher-Signature': 'f'.repeat(64) },
        body: forged,
      })
        .then((res) => res.status)
        .catch(() => 0);
      return status !== 0;
    }, 'the receiver listens');
    expect(status).toBe(401);
    const set = await api(hub, 'PUT', `/api/v1/projects/${project.id}`, { webhookUrl: url }, { token: sa });
    expect(set.status).toBe(200);
    // Occupying a channel makes the gateway post a signed batch.
    const gateway = { id: project.id, ...project.gateway };
    const client = connectPusher(hub.gatewayPort, gateway);
    try {
      await subscribed(client, 'private-project');
      await eventually(
        async () => receiver.output().includes('channel_occupied private-project'),
        'the receiver verified and printed the batch',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${receiver.output()}${receiver.errors()}`);
      });
      expect(receiver.output()).not.toContain('channel_occupied x');
    } finally {
      client.disconnect();
      receiver.child.kill();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
