// The command line as an operator uses it: real child processes, exit codes and output.
import { afterEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { keyedHash } from '../../src/core/crypto.js';
import { createDb } from '../../src/core/db.js';
import { hashPassword, verifyPassword } from '../../src/domain/passwords.js';
import { ADMIN_URL, testConfig } from '../support/env.js';
import { freePort, runTocsin, stopChildren } from '../support/process.js';
import { uniqueSlug } from '../support/api.js';

async function run(args: string[], env: Record<string, string> = {}, input?: string) {
  const proc = runTocsin(args, { LOG_LEVEL: 'warn', ...env }, input);
  const { code } = await proc.exited;
  return { code, output: proc.output() };
}

// A command still running when its test timed out is killed, not left to the next test.
afterEach(stopChildren);

// Each command is a fresh Node process: ~1 s of start-up idle, 25 s seen on a loaded 2-core
// machine. The budget is per command, times the most commands one test runs (8).
const COMMAND_MS = 40_000;
describe('tocsin CLI', { timeout: 8 * COMMAND_MS }, () => {
  it('creates, lists and rotates the key of a project', async () => {
    const slug = uniqueSlug('cli');
    const created = await run([
      'project',
      'create',
      '--name',
      'From CLI',
      '--slug',
      slug,
      '--admin-email',
      `ops@${slug}.test`,
    ]);
    expect(created.code).toBe(0);
    // Each step that waits on the network says so before it starts.
    expect(created.output).toMatch(
      /Connecting to MySQL at 127\.0\.0\.1:\d+…\n[^]*Creating project "[^"]+"…\n[^]*Project created/,
    );
    const apiKey = /API key\s+(tk_\S+)/.exec(created.output)?.[1];
    expect(apiKey).toBeDefined();
    expect(created.output).toMatch(/setup token\s+\S+/);

    const listed = await run(['project', 'list', '--search', slug]);
    expect(listed.code).toBe(0);
    expect(listed.output).toContain(slug);
    expect(listed.output).not.toContain(apiKey!);

    const rotated = await run(['project', 'rotate-key', slug]);
    expect(rotated.code).toBe(0);
    const newKey = /New API key: (tk_\S+)/.exec(rotated.output)?.[1];
    const config = testConfig();
    const db = createDb(config.database);
    try {
      const row = await db.system.project.findUniqueOrThrow({ where: { slug } });
      expect(row.apiKeyHash).toBe(keyedHash(newKey!, config.secrets.apiKeyPepper));
      expect(row.apiKeyHash).not.toBe(keyedHash(apiKey!, config.secrets.apiKeyPepper));
    } finally {
      await db.close();
    }
    expect((await run(['project', 'rotate-key', 'no-such-project'])).code).toBe(1);
    expect((await run(['project', 'create', '--name', 'x'])).code).toBe(64);
  });

  it('refuses a project slug the REST API refuses, before connecting', async () => {
    const bad = await run(['project', 'create', '--name', 'Bad', '--slug', 'Bad Slug']);
    expect(bad.code).toBe(64);
    expect(bad.output).toContain('--slug: lowercase letters, digits and "-", 3 to 48 characters');
    expect(bad.output).not.toContain('Connecting to MySQL');
    const badEmail = await run([
      'project',
      'create',
      '--name',
      'B',
      '--slug',
      uniqueSlug('cli'),
      '--admin-email',
      'nope',
    ]);
    expect(badEmail.code).toBe(64);
    expect(badEmail.output).toContain('--admin-email:');
  });

  it('answers --help and an offline rule test without loading the server, Prisma or Redis', async () => {
    // A module whose URL matches fails to load in the child: on an eager main.ts, both commands fail.
    const env = {
      NODE_OPTIONS: `--import=${fileURLToPath(new URL('../support/forbid-imports.mjs', import.meta.url))}`,
      FORBIDDEN_IMPORTS: String.raw`/src/generated/prisma/|/node_modules/(ioredis|hono|@hono|bullmq|uWebSockets\.js)/|/src/(services|start)\.ts`,
    };
    const help = await run(['--help'], env);
    expect(help).toMatchObject({ code: 0 });
    expect(help.output).toContain('Usage: tocsin');
    const rule = await run(['rule', 'test', '--condition', 'event.a > 1', '--event', '{"a":2}'], env);
    expect(rule).toMatchObject({ code: 0 });
    expect(rule.output).toContain('MATCHED');
    // The hook does bite: a command that needs the database cannot load.
    expect((await run(['project', 'list'], env)).code).not.toBe(0);
    // doctor talks to MySQL and Redis itself, without the Prisma client or the server.
    const doctor = await run(['doctor'], {
      NODE_OPTIONS: env.NODE_OPTIONS,
      FORBIDDEN_IMPORTS: String.raw`/src/generated/prisma/|/node_modules/(hono|@hono|bullmq|uWebSockets\.js)/|/src/(services|start)\.ts`,
      HTTP_PORT: String(await freePort()),
      GATEWAY_PORT: String(await freePort()),
    });
    expect(doctor.output).toMatch(/✔ Migrations/);
    expect(doctor.code).toBe(0);
  });

  it('resets a super admin password: generated once or read from stdin, audited, sessions ended', async () => {
    const config = testConfig();
    const db = createDb(config.database);
    const email = `lost-${uniqueSlug('adm')}@ops.test`;
    try {
      const admin = await db.system.admin.create({
        data: { email, fullName: 'Forgetful', passwordHash: await hashPassword('old-password-1', 4) },
      });
      const session = await db.system.session.create({
        data: {
          adminId: admin.id,
          familyId: admin.id,
          tokenHash: keyedHash(`${email}-refresh`, config.secrets.apiKeyPepper),
          expiresAt: new Date(Date.now() + 3_600_000),
        },
      });

      const generated = await run(['admin', 'reset-password', '--email', email.toUpperCase()]);
      expect(generated.code).toBe(0);
      const password = /password\s+(\S+)\s+<- shown only now/.exec(generated.output)?.[1];
      expect(password).toBeDefined();
      let row = await db.system.admin.findUniqueOrThrow({ where: { id: admin.id } });
      expect(await verifyPassword(password!, row.passwordHash, 4)).toBe(true);
      expect(await verifyPassword('old-password-1', row.passwordHash, 4)).toBe(false);
      expect(
        (await db.system.session.findUniqueOrThrow({ where: { id: session.id } })).revokedAt,
      ).not.toBeNull();

      const weak = await run(['admin', 'reset-password', '--email', email, '--stdin'], {}, 'short\n');
      expect(weak.code).toBe(1);
      expect(weak.output).toContain('at least 10 characters');

      const chosen = await run(
        ['admin', 'reset-password', '--email', email, '--stdin'],
        {},
        'Chosen-by-ops-42\n',
      );
      expect(chosen.code).toBe(0);
      expect(chosen.output).not.toContain('Chosen-by-ops-42');
      expect(chosen.output).not.toContain('shown only now');
      row = await db.system.admin.findUniqueOrThrow({ where: { id: admin.id } });
      expect(await verifyPassword('Chosen-by-ops-42', row.passwordHash, 4)).toBe(true);

      const audited = await db.system.auditLog.findMany({
        where: { action: 'admin.reset_password', resourceId: admin.id },
        orderBy: { createdAt: 'asc' },
      });
      expect(audited.map((entry) => [entry.actorType, entry.projectId, entry.metadata])).toEqual([
        ['system', null, { generated: true }],
        ['system', null, { generated: false }],
      ]);

      const unknown = await run(['admin', 'reset-password', '--email', `nobody-${email}`]);
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain('not found');
    } finally {
      await db.close();
    }
  });

  it('lists pending users and approves one by email with roles, only inside the named project', async () => {
    const slug = uniqueSlug('usr');
    const other = uniqueSlug('usr');
    expect((await run(['project', 'create', '--name', 'U', '--slug', slug])).code).toBe(0);
    expect((await run(['project', 'create', '--name', 'V', '--slug', other])).code).toBe(0);
    const db = createDb(testConfig().database);
    const email = `newcomer@${slug}.test`;
    try {
      const project = await db.system.project.findUniqueOrThrow({ where: { slug } });
      const user = await db.forProject(project.id).user.create({
        data: { projectId: project.id, email, fullName: 'New Comer', status: 'pending' },
      });
      const pending = await run(['user', 'list', '--project', slug, '--status', 'pending']);
      expect(pending.code).toBe(0);
      expect(pending.output).toContain(email);

      // The other project has no such user: its name does not reach across.
      const elsewhere = await run(['user', 'approve', '--project', other, email]);
      expect(elsewhere.code).toBe(1);
      expect(elsewhere.output).toContain('No user');

      const unknownRole = await run(['user', 'approve', '--project', slug, email, '--roles', 'nope']);
      expect(unknownRole.code).toBe(1);
      expect(unknownRole.output).toContain('nope');

      const approved = await run([
        'user',
        'approve',
        '--project',
        slug,
        email.toUpperCase(),
        '--roles',
        'member,rule_manager',
      ]);
      expect(approved.code).toBe(0);
      const row = await db.forProject(project.id).user.findUniqueOrThrow({
        where: { id: user.id },
        include: { roles: { include: { role: true } } },
      });
      expect(row.status).toBe('active');
      expect(row.roles.map((link) => link.role.name).sort()).toEqual(['member', 'rule_manager']);

      const again = await run(['user', 'approve', '--project', slug, email]);
      expect(again.code).toBe(1);
      expect(again.output).toContain('not pending');
      expect((await run(['user', 'approve', '--project', slug])).code).toBe(64);
    } finally {
      await db.close();
    }
  });

  it('tests a rule offline: 0 when it matches, 1 when not, 64 for a bad condition', async () => {
    const event = JSON.stringify({ type: 'transfer.failed', payload: { amount: 12000 } });
    const matched = await run([
      'rule',
      'test',
      '--condition',
      'event.payload.amount > 10000',
      '--event',
      event,
    ]);
    expect(matched).toMatchObject({ code: 0 });
    expect(matched.output).toContain('MATCHED');
    expect(
      (await run(['rule', 'test', '--condition', 'event.payload.amount > 20000', '--event', event])).code,
    ).toBe(1);
    const bad = await run(['rule', 'test', '--condition', 'event.payload.amount >', '--event', event]);
    expect(bad.code).toBe(64);
    expect(bad.output).toMatch(/Invalid condition: .*column/);
  });

  it('doctor passes on a healthy machine and names what to fix otherwise', async () => {
    const ports = { HTTP_PORT: String(await freePort()), GATEWAY_PORT: String(await freePort()) };
    const healthy = await run(['doctor'], ports);
    expect(healthy.output).toMatch(/✔ MySQL/);
    expect(healthy.output).toMatch(/✔ Redis/);
    expect(healthy.output).toMatch(/✔ Migrations/);
    expect(healthy.code).toBe(0);

    const noRedis = await run(['doctor'], { ...ports, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    expect(noRedis.code).toBe(69);
    expect(noRedis.output).toMatch(/✖ Redis .*cannot connect/);
    expect(noRedis.output).toContain('fix: start Redis');

    const badConfig = await run(['doctor'], { DATABASE_URL: 'postgres://nope' });
    expect(badConfig.code).toBe(78);
    expect(badConfig.output).toContain('DATABASE_URL');
  });

  it('runs retention as a dry run with progress output', async () => {
    const slug = uniqueSlug('ret');
    expect((await run(['project', 'create', '--name', 'R', '--slug', slug])).code).toBe(0);
    const dry = await run(['retention', '--project', slug, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.output).toMatch(/would delete 0 events/);
    expect((await run(['retention', '--project', 'missing-project'])).code).toBe(1);
  });

  it('refuses to work on a database that is missing or not migrated, naming the fix', async () => {
    const absent = await run(['project', 'list'], {
      DATABASE_URL: `${ADMIN_URL}/tocsin_cli_absent_${process.pid}`,
    });
    expect(absent.code).toBe(69);
    expect(absent.output).toContain('run `tocsin migrate`');
    const unreachable = await run(['user', 'list', '--project', 'x'], {
      DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/tocsin`,
    });
    expect(unreachable.code).toBe(69);
    expect(unreachable.output).toMatch(/Cannot reach the database: .*ECONNREFUSED/);
  });

  it('answers unknown commands and options with usage and 64', async () => {
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(64);
    expect(unknown.output).toContain('Usage: tocsin');
    expect((await run(['start', '--no-such-flag'])).code).toBe(64);
  });
});
