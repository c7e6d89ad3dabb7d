// The operator console in a real browser, used as an admin would: sign in, approve a pending
// user, change another user's roles, write a rule (a syntax error first, shown at its position),
// watch an event arrive in the live view with its notification and deliveries; rotate the API key, change a setting, and take
// an alert on the board; project B's admin finds nothing of project A; a member sees only their
// inbox; a super admin manages projects and rotates a key. Every screen is saved as a screenshot
// in test-results/console/ (gitignored) for review.
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PASSWORD, api, createTestProject, superAdminToken, type TestProject } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';
import { testConfig } from '../support/env.js';
import { download, wav } from '../integration/sounds/audio.js';
import { startHub, type TestHub } from '../support/hub.js';

const SHOTS = join(process.cwd(), 'test-results', 'console');
const MEMBER_PASSWORD = 'Correct-horse-42';

let hub: TestHub;
let a: TestProject;
let b: TestProject;
let browser: Browser;
let pending: { id: string; email: string };
let rejected: { id: string; email: string };
/** An active user whose roles the admin changes (neither member nor admin: rules target those). */
let shifting: { id: string; email: string };
/** What the first test made in A, for the isolation test to look for. */
const ofA: { ruleId?: string; eventId?: string; alertId?: string; ruleName: string } = {
  ruleName: 'Large failed transfer',
};

beforeAll(async () => {
  const launching = launchBrowser();
  await mkdir(SHOTS, { recursive: true });
  hub = await startHub();
  const sa = await superAdminToken(hub);
  [a, b] = [await createTestProject(hub, sa), await createTestProject(hub, sa)];
  const email = `ada@${a.slug}.test`;
  const registered = await api(hub, 'POST', '/api/v1/auth/register', {
    email,
    password: MEMBER_PASSWORD,
    fullName: 'Ada Pending',
    projectSlug: a.slug,
  });
  expect(registered.status).toBe(201);
  pending = { id: registered.body.id, email };
  const unwanted = await api(hub, 'POST', '/api/v1/auth/register', {
    email: `bob@${a.slug}.test`,
    password: MEMBER_PASSWORD,
    fullName: 'Bob Unwanted',
    projectSlug: a.slug,
  });
  expect(unwanted.status).toBe(201);
  rejected = { id: unwanted.body.id, email: `bob@${a.slug}.test` };
  const role = await api(
    hub,
    'POST',
    '/api/v1/roles',
    { name: 'night-shift', permissions: [] },
    { token: a.adminToken },
  );
  expect(role.status).toBe(201);
  const worker = await api(hub, 'POST', '/api/v1/auth/register', {
    email: `cy@${a.slug}.test`,
    password: MEMBER_PASSWORD,
    fullName: 'Cy Shifting',
    projectSlug: a.slug,
  });
  expect(worker.status).toBe(201);
  shifting = { id: worker.body.id, email: `cy@${a.slug}.test` };
  const active = await api(
    hub,
    'POST',
    `/api/v1/users/${shifting.id}/approve`,
    { roles: ['rule_manager'] },
    { token: a.adminToken },
  );
  expect(active.status).toBe(200);
  browser = await launching;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close();
});

/** A fresh browser profile (no cookies) on the console; page errors fail the test. */
async function openConsole(path = '/console') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  onTestFailed(async () => {
    await page.screenshot({ path: join(SHOTS, 'failure.png'), fullPage: true }).catch(() => undefined);
    console.error(`Failure screenshot: ${join(SHOTS, 'failure.png')}; page errors: ${errors.join('\n')}`);
  });
  await page.goto(`${hub.apiUrl}${path}`);
  return { page, context, errors };
}

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name, exact: true });
const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function signIn(page: Page, email: string, password: string, projectSlug?: string) {
  await heading(page, 'Sign in').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (projectSlug) await page.getByLabel('Project').fill(projectSlug);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function open(page: Page, link: string, title = link) {
  const entry = page.locator('nav').getByRole('link', { name: link, exact: true });
  await entry.click();
  await heading(page, title).waitFor();
  // (CSS, not a role: on phones the menu folds away after a choice, leaving it hidden.)
  await page
    .locator('nav a[aria-current="page"]')
    .filter({ hasText: new RegExp(`^${link}$`) })
    .waitFor({ state: 'attached' });
}

describe('a project admin', () => {
  it("approves a user (rejects another), changes another's roles, writes a rule (error shown at its position), and sees an event live", async () => {
    const { page, context, errors } = await openConsole();
    await shot(page, 'sign-in');
    await signIn(page, a.adminEmail, ADMIN_PASSWORD, a.slug);

    // Pending users: one click rejects, one approves with the chosen role (member is preselected).
    await heading(page, 'Pending users').waitFor();
    const item = page.locator(`li[data-user="${pending.email}"]`);
    await item.getByRole('checkbox', { name: 'member' }).waitFor();
    expect(await item.getByRole('checkbox', { name: 'member' }).isChecked()).toBe(true);
    await shot(page, 'pending-users');
    const unwanted = page.locator(`li[data-user="${rejected.email}"]`);
    await unwanted.getByRole('button', { name: 'Reject' }).click();
    await unwanted.waitFor({ state: 'detached' });
    const gone = await api(hub, 'GET', `/api/v1/users/${rejected.id}`, undefined, { token: a.adminToken });
    expect(gone.status).toBe(404);
    await item.getByRole('button', { name: 'Approve' }).click();
    await item.waitFor({ state: 'detached' });
    await page.getByText('No one is waiting for approval').waitFor();
    const approved = await api(hub, 'GET', `/api/v1/users/${pending.id}`, undefined, { token: a.adminToken });
    expect(approved.body).toMatchObject({ status: 'active', roles: [{ name: 'member' }] });

    // Users: an active user's roles change with the same picker; none chosen is refused at the field.
    await open(page, 'Users');
    const row = page.locator('tr', { hasText: shifting.email });
    await row.getByText('Edit roles').click();
    const picker = row.locator('fieldset.roles');
    await picker.getByRole('checkbox', { name: 'rule_manager' }).uncheck();
    await row.getByRole('button', { name: 'Save roles' }).click();
    await picker.locator('.field-error').getByText('name at least one role').waitFor();
    expect(await picker.getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'user-roles-error');
    await picker.getByRole('checkbox', { name: 'night-shift' }).check();
    await row.getByRole('button', { name: 'Save roles' }).click();
    await row.locator('.role-names', { hasText: /^night-shift$/ }).waitFor();
    const shifted = await api(hub, 'GET', `/api/v1/users/${shifting.id}`, undefined, { token: a.adminToken });
    expect(shifted.body.roles.map((r: { name: string }) => r.name)).toEqual(['night-shift']);
    await shot(page, 'user-roles');

    // A rule: the syntax error is shown with its position, then a valid condition matches the sample.
    await open(page, 'Rules');
    await page.getByRole('link', { name: 'New rule' }).click();
    await heading(page, 'New rule').waitFor();
    await page.getByLabel('Name').fill(ofA.ruleName);
    const broken = 'event.type == "transfer.failed" && (event.payload.amount > 1000';
    await page.getByLabel('Condition').fill(broken);
    const problem = page.locator('#condition-check .error');
    await problem.waitFor();
    const expected = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: broken, event: { type: 'x' } },
      { token: a.adminToken },
    );
    const column = expected.body.error.details.column as number;
    expect(column).toBeGreaterThan(1);
    expect(await problem.getAttribute('data-column')).toBe(String(column));
    expect(await problem.textContent()).toContain(`line 1, column ${column}`);
    // The caret sits under the column the parser named.
    expect(await problem.locator('pre').textContent()).toBe(`${broken}\n${' '.repeat(column - 1)}^`);
    expect(await page.getByLabel('Condition').getAttribute('aria-invalid')).toBe('true');
    await shot(page, 'rule-syntax-error');

    await page.getByLabel('Condition').fill('event.type == "transfer.failed" && event.payload.amount > 1000');
    await page.getByText('The condition is valid.').waitFor();
    await page.getByText('matches the sample').waitFor();
    await page.getByLabel('Title').fill('Transfer of {{event.payload.amount}} failed');
    await page.getByLabel('Body').fill('Account {{event.payload.account}}');
    // The templates are previewed with the sample event as they are typed (rendered by the hub).
    const preview = page.locator('#template-preview');
    await preview.getByText('Transfer of 12000 failed').waitFor();
    await preview.getByText('Account FR76 3000 6000 0112').waitFor();
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.locator('#rule-saved').waitFor();
    ofA.ruleId = /\/console\/rules\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
    expect(ofA.ruleId).toBeDefined();
    const saved = await api(hub, 'GET', `/api/v1/rules/${ofA.ruleId}`, undefined, { token: a.adminToken });
    expect(saved.body).toMatchObject({
      name: ofA.ruleName,
      active: true,
      title: 'Transfer of {{event.payload.amount}} failed',
    });
    await page.getByRole('button', { name: 'Try the saved rule on the sample' }).click();
    await page.locator('#try-result').getByText('Transfer of 12000 failed').waitFor();
    await shot(page, 'rule-editor');

    // Live view: an event posted with the API key appears with the rule it matched and its notification.
    await open(page, 'Live view');
    await page.getByText('Live: new events appear at the top').waitFor();
    const posted = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 'transfer.failed', payload: { amount: 5000, account: 'FR76-1' } },
      { apiKey: a.apiKey },
    );
    expect(posted.status).toBe(202);
    ofA.eventId = posted.body.id;
    const card = page.locator(`li.event[data-event="${ofA.eventId}"]`);
    await card.waitFor();
    expect(await card.getByRole('link', { name: ofA.ruleName }).count()).toBe(1);
    const notification = card.locator('li.notification', { hasText: 'Transfer of 5000 failed' });
    await notification.waitFor();
    expect(await notification.textContent()).toContain('1 recipients');
    await notification.getByRole('button', { name: 'Deliveries' }).click();
    await notification.getByText(pending.email).waitFor();

    // An event no rule matches says so, and why: the rule's explain trace.
    await api(hub, 'POST', '/api/v1/events', { type: 'noise', payload: {} }, { apiKey: a.apiKey });
    const unmatched = page.locator('li.event[data-type="noise"]');
    await unmatched.getByText('no rule matched').waitFor();
    await unmatched.getByRole('button', { name: 'Why not?' }).click();
    await unmatched.getByText('event.type == "transfer.failed"', { exact: false }).first().waitFor();
    await shot(page, 'live-view');

    // Pause holds new events; the filter hides others.
    await page.getByRole('button', { name: 'Pause' }).click();
    await api(hub, 'POST', '/api/v1/events', { type: 'held', payload: {} }, { apiKey: a.apiKey });
    await page.getByText('Paused: 1 new events held').waitFor();
    expect(await page.locator('li.event[data-type="held"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('li.event[data-type="held"]').waitFor();
    await page.getByLabel('Filter').fill('transfer');
    expect(await page.locator('li.event[data-type="held"]').isHidden()).toBe(true);
    expect(await card.isVisible()).toBe(true);

    // The other screens, each saved for review.
    for (const [link, title, name] of [
      ['Users', 'Users', 'users'],
      ['Roles', 'Roles', 'roles'],
      ['Sounds', 'Sounds', 'sounds'],
      ['Transfer buckets', 'Transfer buckets', 'buckets'],
      ['Providers', 'Providers', 'providers'],
      ['Audit log', 'Audit log', 'audit-log'],
    ] as const) {
      await open(page, link, title);
      await page.locator('.loading').waitFor({ state: 'detached' });
      await shot(page, name);
    }

    // A phone-sized screen: the navigation folds behind the menu button.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await shot(page, 'narrow-menu');
    await open(page, 'Rules');
    await shot(page, 'narrow-rules');
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in').waitFor();
    expect((await context.cookies()).filter((c) => c.name === 'tocsin_console_refresh')).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000); // a long journey through a dozen screens, on a shared machine
});

describe('a project admin, on their project and its alerts', () => {
  it('rotates the API key (copied once), changes a setting (error at the field) and acknowledges an alert on the board', async () => {
    const { page, context, errors } = await openConsole();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.apiUrl });
    await signIn(page, a.adminEmail, ADMIN_PASSWORD, a.slug);
    await heading(page, 'Pending users').waitFor();
    const admin = (await api(hub, 'GET', '/api/v1/users/me', undefined, { token: a.adminToken })).body;

    // The API key: rotated with one confirmation, shown once with a copy button.
    await open(page, 'Settings and API key', `Project ${a.slug} settings`);
    await page.getByRole('cell', { name: 'API requests per minute', exact: true }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate the API key' }).click();
    const secret = page.locator('#new-api-key .secret');
    await secret.waitFor();
    const newKey = (await secret.textContent())!;
    expect(newKey).toMatch(/^tk_/);
    await page.locator('#new-api-key').getByRole('button', { name: 'Copy' }).click();
    await page.locator('#new-api-key').getByText('Copied.').waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(newKey);
    await shot(page, 'project-settings-key');
    const event = { type: 't', payload: {} };
    expect((await api(hub, 'POST', '/api/v1/events', event, { apiKey: a.apiKey })).status).toBe(401);
    expect((await api(hub, 'POST', '/api/v1/events', event, { apiKey: newKey })).status).toBe(202);
    a.apiKey = newKey;

    // A setting: a value out of bounds is refused beside its field; a good one saved (with Enter).
    const maxMatches = page.getByLabel('At most … alerts per rule');
    await maxMatches.fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const fieldError = page.locator('.field[data-name="settings.suppression.maxMatches"] .field-error');
    await fieldError.getByText('>=1').waitFor();
    expect(await maxMatches.getAttribute('aria-invalid')).toBe('true');
    // The message is beside the field only; the form's top just points there.
    await page.getByText('Not saved: see the marked fields below.').waitFor();
    expect(await page.locator('[role="alert"]', { hasText: 'settings.suppression' }).count()).toBe(0);
    await shot(page, 'project-settings-error');
    await maxMatches.fill('25');
    await maxMatches.press('Enter');
    await page.locator('#settings-saved').waitFor();
    const saved = await api(hub, 'GET', '/api/v1/project', undefined, { token: a.adminToken });
    expect(saved.body.settings.suppression).toEqual({ maxMatches: 25, windowSeconds: 60 });
    expect(await page.getByLabel('At most … alerts per rule').inputValue()).toBe('25');

    // A rule that opens alerts, written in the editor (a broken dedup key is shown at its field).
    await open(page, 'Rules');
    await page.getByRole('link', { name: 'New rule' }).click();
    await heading(page, 'New rule').waitFor();
    await page.getByLabel('Name').fill('Disk full');
    await page.getByLabel('Condition').fill('event.type == "disk.full"');
    await page.getByRole('checkbox', { name: 'member', exact: true }).uncheck();
    await page.getByRole('checkbox', { name: 'admin', exact: true }).check();
    await page.getByLabel('Title').fill('Disk full on {{event.payload.host}}');
    await page.getByLabel('Body').fill('{{event.payload.percent}} % used');
    const dedupKey = page.getByLabel('Dedup key');
    await dedupKey.fill('{{event.payload.host');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page
      .locator('.field[data-name="alert.dedupKey"] .field-error')
      .getByText('alert.dedupKey')
      .waitFor();
    expect(await dedupKey.getAttribute('aria-invalid')).toBe('true');
    await dedupKey.fill('{{event.payload.host}}');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.locator('#rule-saved').waitFor();
    await shot(page, 'rule-alert');
    const ruleId = /\/console\/rules\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
    const rule = await api(hub, 'GET', `/api/v1/rules/${ruleId}`, undefined, { token: a.adminToken });
    expect(rule.body).toMatchObject({
      name: 'Disk full',
      alert: { dedupKey: '{{event.payload.host}}', resolveWhen: null },
      escalationPolicyId: null,
    });

    // An event that opens an alert: on the board, live.
    await open(page, 'Live view');
    await page.locator('#alerts-board [data-state="triggered"]').getByText('Nothing is on fire.').waitFor();
    await page.getByText('Live: new events appear at the top').waitFor();
    const diskFull = { type: 'disk.full', payload: { host: 'db-1', percent: 97 } };
    expect((await api(hub, 'POST', '/api/v1/events', diskFull, { apiKey: a.apiKey })).status).toBe(202);
    const triggered = page.locator('#alerts-board [data-state="triggered"] li.alert', {
      hasText: 'Disk full on db-1',
    });
    await triggered.waitFor();
    ofA.alertId = (await triggered.getAttribute('data-alert'))!;
    await shot(page, 'alerts-board');
    await triggered.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator(`#alerts-board [data-state="acknowledged"] li[data-alert="${ofA.alertId}"]`).waitFor();
    const taken = await api(hub, 'GET', `/api/v1/alerts/${ofA.alertId}`, undefined, { token: a.adminToken });
    expect(taken.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: admin.id });
    expect(taken.body.timeline).toContainEqual(
      expect.objectContaining({ type: 'acknowledged', userId: admin.id }),
    );

    // The alert's timeline: who acted, by name; resolving it from there.
    await page
      .locator(`#alerts-board li[data-alert="${ofA.alertId}"]`)
      .getByRole('link', { name: 'Timeline' })
      .click();
    await heading(page, 'Disk full on db-1').waitFor();
    await page.locator('#alert-timeline li[data-type="triggered"]').waitFor();
    await page
      .locator('#alert-timeline li[data-type="acknowledged"]')
      .getByText('by Project Admin')
      .waitFor();
    await shot(page, 'alert-timeline');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.locator('#alert-timeline li[data-type="resolved"]').waitFor();
    const resolved = await api(hub, 'GET', `/api/v1/alerts/${ofA.alertId}`, undefined, {
      token: a.adminToken,
    });
    expect(resolved.body).toMatchObject({ status: 'resolved', resolvedBy: admin.id });

    // On a phone: the board's columns stack, nothing overflows.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Menu' }).click();
    await open(page, 'Live view');
    await page.locator(`#alerts-board [data-state="resolved"] li[data-alert="${ofA.alertId}"]`).waitFor();
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    await shot(page, 'narrow-live');
    await page.getByRole('button', { name: 'Menu' }).click();
    await open(page, 'Settings and API key', `Project ${a.slug} settings`);
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    await shot(page, 'narrow-settings');
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});

describe('a project admin, on the configuration screens', () => {
  it('uploads, plays and deletes a sound within the quota; sets buckets, provider credentials (redacted); filters and exports the audit log', async () => {
    const { page, context, errors } = await openConsole();
    // Signed in with the keyboard alone: the email field has the focus, Tab moves on, Enter sends.
    await heading(page, 'Sign in').waitFor();
    // Signed out, there is nothing to sign out of, nor a menu.
    expect(await page.getByRole('button', { name: 'Sign out' }).isHidden()).toBe(true);
    expect(await page.getByRole('button', { name: 'Menu' }).isHidden()).toBe(true);
    await page.keyboard.type(a.adminEmail);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN_PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.type(a.slug);
    await page.keyboard.press('Enter');
    await heading(page, 'Pending users').waitFor();

    // Sounds: the quota is shown and counts the upload; the sound plays from its signed URL.
    await open(page, 'Sounds');
    await page.getByText('No sounds yet').waitFor();
    expect(await page.locator('#sound-quota').textContent()).toMatch(
      /^0 of 50 sounds, 0 B of 20\.0 MiB used/,
    );
    await page.getByLabel('Name').fill('Beep');
    await page
      .getByLabel('File')
      .setInputFiles({ name: 'beep.wav', mimeType: 'audio/wav', buffer: wav(2048) });
    await page.getByRole('button', { name: 'Upload' }).click();
    const beep = page.getByRole('row', { name: /Beep/ });
    await beep.waitFor();
    expect(await page.locator('#sound-quota').textContent()).toMatch(
      /^1 of 50 sounds, 2\.0 KiB of 20\.0 MiB used/,
    );
    const src = (await beep.locator('audio').getAttribute('src'))!;
    // (Signed for PUBLIC_API_URL: fetched here from the test hub's port.)
    expect(await download(hub, src)).toMatchObject({ status: 200, type: 'audio/wav' });
    await shot(page, 'sounds-quota');
    await beep.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No sounds yet').waitFor();

    // Transfer buckets: created, then a threshold refused beside its field and a good one set.
    await open(page, 'Transfer buckets');
    await page.getByText('No buckets yet.').waitFor();
    const create = page.locator('form', { has: page.getByRole('button', { name: 'Create bucket' }) });
    await create.getByLabel('Name').fill('EUR payouts');
    await create.getByLabel('Balance').fill('5000');
    await create.getByLabel('Threshold').fill('1000');
    await create.getByLabel('Currency').fill('EUR');
    await create.getByRole('button', { name: 'Create bucket' }).click();
    const threshold = page.getByLabel('Threshold of EUR payouts');
    await threshold.waitFor();
    await threshold.fill('12,5');
    await threshold.press('Enter');
    await page.getByText('a decimal with at most 16 digits and 4 decimals').waitFor();
    expect(await threshold.getAttribute('aria-invalid')).toBe('true');
    await threshold.fill('2500');
    // Saved, then the list read again and redrawn from it.
    const reloaded = page.waitForResponse(
      (r) => r.request().method() === 'GET' && r.url().includes('/api/v1/transfer-buckets?'),
    );
    await threshold.press('Enter');
    await reloaded;
    const buckets = await api(hub, 'GET', '/api/v1/transfer-buckets', undefined, { token: a.adminToken });
    expect(buckets.body.items).toMatchObject([{ name: 'EUR payouts', threshold: '2500', currency: 'EUR' }]);
    await shot(page, 'buckets-set');

    // Providers: the secret is written, never shown back.
    await open(page, 'Providers');
    const pusher = page.locator('section', { has: page.getByRole('heading', { name: /Hosted Pusher/ }) });
    await pusher.getByText('Set credentials').click();
    await pusher.getByLabel('App id').fill('123456');
    await pusher.getByLabel('Key').fill('pusher-key-1');
    await pusher.getByLabel('Secret').fill('pusher-secret-never-shown');
    await pusher.getByLabel('Cluster').fill('eu');
    await pusher.getByRole('button', { name: 'Save' }).click();
    await pusher.getByText('configured').waitFor();
    await pusher.getByText('pusher-key-1').waitFor();
    expect(await page.content()).not.toContain('pusher-secret-never-shown');
    await shot(page, 'providers-redacted');

    // Audit log: filtered by action, then the same filter exported as CSV.
    await open(page, 'Audit log');
    await page.getByLabel('Action').fill('providers.*');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('cell', { name: 'providers.set' }).waitFor();
    expect(await page.locator('td[data-label="Action"]').allTextContents()).toEqual(['providers.set']);
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const csv = await (await downloading).createReadStream();
    let text = '';
    for await (const chunk of csv) text += String(chunk);
    expect(text).toContain('providers.set');
    expect(text).not.toContain('api.request');
    await shot(page, 'audit-filtered');

    // Every project screen fits a phone: nothing wider than 390 px.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [link, title] of [
      ['Live view', 'Live view'],
      ['Pending users', 'Pending users'],
      ['Users', 'Users'],
      ['Roles', 'Roles'],
      ['Rules', 'Rules'],
      ['Sounds', 'Sounds'],
      ['Transfer buckets', 'Transfer buckets'],
      ['Providers', 'Providers'],
      ['Audit log', 'Audit log'],
      ['Settings and API key', `Project ${a.slug} settings`],
    ] as const) {
      await page.getByRole('button', { name: 'Menu' }).click();
      await open(page, link, title);
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      const width = Number(await page.evaluate('document.documentElement.scrollWidth'));
      expect(width, `${link} at 390 px`).toBeLessThanOrEqual(390);
    }
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});

describe("project B's admin", () => {
  it("finds nothing of project A: A's URLs give the not-found page", async () => {
    expect(ofA.ruleId && ofA.eventId && ofA.alertId).toBeTruthy();
    const { page, context, errors } = await openConsole();
    await signIn(page, b.adminEmail, ADMIN_PASSWORD, b.slug);
    await heading(page, 'Pending users').waitFor();
    await open(page, 'Rules');
    await page.getByText('No rules yet').waitFor();
    for (const path of [
      `/rules/${ofA.ruleId}`,
      `/events/${ofA.eventId}`,
      `/users/${pending.id}`,
      `/alerts/${ofA.alertId}`,
    ]) {
      // Followed as a link inside the console (the session lives in this page's memory).
      // (A string: these tests are type-checked without the DOM library.)
      await page.evaluate(
        `document.body.appendChild(Object.assign(document.createElement('a'), { href: '/console${path}' })).click()`,
      );
      await heading(page, 'Not found').waitFor();
      expect(await page.textContent('main')).not.toContain(ofA.ruleName);
      expect(await page.textContent('main')).not.toContain('Disk full');
    }
    await shot(page, 'not-found');
    // B's board and settings are B's own.
    await open(page, 'Live view');
    await page
      .locator('#alerts-board [data-state="resolved"]')
      .getByText('No alert was resolved yet.')
      .waitFor();
    expect(await page.locator('#alerts-board li.alert').count()).toBe(0);
    await open(page, 'Settings and API key', `Project ${b.slug} settings`);
    // A fresh load of A's URL resumes B's session from the cookie and still finds nothing.
    await page.goto(`${hub.apiUrl}/console/rules/${ofA.ruleId}`);
    await heading(page, 'Not found').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('a member', () => {
  it('sees only their inbox, with the notification', async () => {
    const { page, context } = await openConsole();
    await signIn(page, pending.email, MEMBER_PASSWORD, a.slug);
    await heading(page, 'Inbox').waitFor();
    await page.getByText('Transfer of 5000 failed').waitFor();
    expect(await page.locator('nav a').allTextContents()).toEqual(['Inbox']);
    await page.goto(`${hub.apiUrl}/console/rules`);
    await heading(page, 'Not found').waitFor();
    await page.goto(`${hub.apiUrl}/console/inbox`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('acknowledged', { exact: true }).waitFor();
    await shot(page, 'member-inbox');
    await context.close();
  });
});

describe('a super admin', () => {
  it('sees projects and cluster status, acts inside a project and rotates its API key', async () => {
    const { page, context, errors } = await openConsole();
    const { admin } = testConfig();
    await signIn(page, admin.email, admin.password!);
    await heading(page, 'Projects').waitFor();
    await page.getByRole('link', { name: `Project ${a.slug}` }).waitFor();
    await shot(page, 'projects');
    await open(page, 'Status', 'Cluster status');
    await page.getByRole('heading', { name: 'Gateway nodes' }).waitFor();
    await shot(page, 'cluster-status');

    await open(page, 'Projects');
    await page.getByRole('link', { name: `Project ${a.slug}` }).click();
    await heading(page, `Project ${a.slug}`).waitFor();
    await shot(page, 'project');
    await page.getByRole('button', { name: 'Act inside this project' }).click();
    await heading(page, 'Pending users').waitFor();
    await open(page, 'Settings and API key', `Project ${a.slug} settings`);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate the API key' }).click();
    const secret = page.locator('.secret');
    await secret.waitFor();
    const newKey = (await secret.textContent())!;
    await shot(page, 'settings');
    const withOld = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 't', payload: {} },
      { apiKey: a.apiKey },
    );
    expect(withOld.status).toBe(401);
    const withNew = await api(hub, 'POST', '/api/v1/events', { type: 't', payload: {} }, { apiKey: newKey });
    expect(withNew.status).toBe(202);
    a.apiKey = newKey;
    // The limits a project admin only reads, a super admin sets here; nothing else moves.
    const asSuperAdmin = { token: await superAdminToken(hub) };
    const before = (await api(hub, 'GET', `/api/v1/projects/${a.id}`, undefined, asSuperAdmin)).body;
    await page.getByLabel('API requests per minute', { exact: true }).fill('1200');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#settings-saved').waitFor();
    const after = (await api(hub, 'GET', `/api/v1/projects/${a.id}`, undefined, asSuperAdmin)).body;
    expect(after.settings).toEqual({
      ...before.settings,
      rateLimits: { ...before.settings.rateLimits, apiPerMinute: 1200 },
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('creates a project with its admin (setup token shown once), suspends, reactivates and deletes it', async () => {
    const { page, context, errors } = await openConsole();
    const { admin } = testConfig();
    await signIn(page, admin.email, admin.password!);
    await heading(page, 'Projects').waitFor();
    const slug = `console-made-${Date.now().toString(36)}`;
    const form = page.locator('form', { has: page.getByRole('button', { name: 'Create project' }) });
    await form.getByLabel('Name', { exact: true }).fill('Made in the console');
    await form.getByLabel('Slug', { exact: true }).fill('Bad Slug');
    await form.getByRole('button', { name: 'Create project' }).click();
    await form.locator('.field[data-name="slug"] .field-error').getByText('lowercase letters').waitFor();
    await form.getByLabel('Slug', { exact: true }).fill(slug);
    await form.getByLabel('Admin email').fill(`boss@${slug}.test`);
    await form.getByLabel('Admin name').fill('Boss');
    await form.getByRole('button', { name: 'Create project' }).click();
    await page.getByText('The admin’s setup token — shown only this once').waitFor();
    const link = page.getByRole('link', { name: 'Made in the console' });
    await link.waitFor();
    await shot(page, 'project-created');
    const [created] = (
      await api(hub, 'GET', `/api/v1/projects?search=${slug}`, undefined, {
        token: await superAdminToken(hub),
      })
    ).body.items;
    expect(created).toMatchObject({ slug, status: 'active' });

    await link.click();
    await heading(page, 'Made in the console').waitFor();
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('button', { name: 'Reactivate' }).waitFor();
    await page.getByText('disabled', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Reactivate' }).click();
    await page.getByRole('button', { name: 'Suspend' }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await heading(page, 'Projects').waitFor();
    await page.getByRole('link', { name: `Project ${a.slug}` }).waitFor();
    expect(await page.getByRole('link', { name: 'Made in the console' }).count()).toBe(0);
    const gone = await api(hub, 'GET', `/api/v1/projects/${created.id}`, undefined, {
      token: await superAdminToken(hub),
    });
    expect(gone.status).toBe(404);
    expect(errors).toEqual([]);
    await context.close();
  });
});
