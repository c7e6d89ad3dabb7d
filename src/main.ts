#!/usr/bin/env node
// The `tocsin` command line. Exit codes: 0 ok, 1 failure, 64 usage, 69 unavailable, 78 config.
// First import: .env is read before any other module runs.
import './core/load-env-file.js';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './core/config.js';
import { createLogger, prettyOutput } from './core/log.js';
import { migrate, migrationStatus } from './core/migrate.js';
import { handleShutdownSignals, runClosers } from './core/shutdown.js';
import { doctor } from './cli/doctor.js';
import { CliError, EXIT, say } from './cli/output.js';
import { projectCreate, projectList, projectRotateKey, resolveProjectId } from './cli/project.js';
import { applyRetention, applyRetentionToAll } from './domain/retention.js';
import { ruleTest } from './cli/rule.js';
import { scheduleWho } from './cli/schedule.js';
import { userApprove, userList } from './cli/user.js';
import { createServices, type Services } from './services.js';
import { ROLES, startTocsin, type Role } from './start.js';

const USAGE = `Usage: tocsin <command> [options]

Commands:
  start [--role all|api|gateway|worker]   run the hub (default: every role in one process)
  migrate                                 apply pending database migrations and exit
  project create --name N --slug S [--admin-email E --admin-name N --admin-password P]
  project list [--search TEXT] [--status active|disabled|deleted]
  project rotate-key <id|slug>            replace a project's API key (the old one stops at once)
  user list --project <id|slug> [--status pending|active|suspended] [--search TEXT]
  user approve --project <id|slug> <id|email> [--roles member,...]
                                          make a pending registration active with these roles (default member)
  rule test --condition C (--event JSON | --event-file PATH)
                                          evaluate a condition against a sample event (exit 0 if it matches)
  schedule who --project <id|slug> [--at ISO-TIME]
                                          who is on call in each of the project's schedules (default: now)
  retention [--project <id|slug>] [--dry-run]
                                          delete data older than each project's retention settings
  doctor                                  check configuration, MySQL, Redis, migrations and ports
`;

const OPTIONS = {
  role: { type: 'string', default: 'all' },
  name: { type: 'string' },
  slug: { type: 'string' },
  'admin-email': { type: 'string' },
  'admin-name': { type: 'string' },
  'admin-password': { type: 'string' },
  search: { type: 'string' },
  status: { type: 'string' },
  condition: { type: 'string' },
  event: { type: 'string' },
  'event-file': { type: 'string' },
  project: { type: 'string' },
  roles: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  at: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseRoles(value: string): readonly Role[] {
  if (value === 'all') return ROLES;
  const roles = value.split(',');
  for (const role of roles) {
    if (!(ROLES as readonly string[]).includes(role)) {
      throw new CliError(`Unknown role "${role}": use all, ${ROLES.join(', ')}`, EXIT.usage);
    }
  }
  return roles as Role[];
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config);
    throw err;
  }
}

function printBanner(config: Config, roles: readonly Role[]): void {
  const api = `${config.http.publicUrl}/api/v1`;
  const lines = ['', 'Tocsin is running.'];
  if (roles.includes('api')) {
    lines.push(
      `  API       ${api}`,
      `  Docs      ${config.http.publicUrl}/docs`,
      `  Ready     ${config.http.publicUrl}/ready`,
    );
  }
  if (roles.includes('gateway'))
    lines.push(`  Gateway   ws://localhost:${config.gateway.port}/app/{projectKey}`);
  lines.push(
    `  Admin     ${config.admin.email} — password: TOCSIN_ADMIN_PASSWORD, or the one printed above on first start`,
  );
  if (roles.includes('api')) {
    lines.push(
      '',
      'Try it (docs/integration.md has more):',
      `  TOKEN=$(curl -s ${api}/auth/login -H 'Content-Type: application/json' -d '{"email":"${config.admin.email}","password":"<password>"}' | jq -r .accessToken)`,
      `  curl -s ${api}/projects -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"Demo","slug":"demo"}'   # note apiKey`,
      `  curl -s ${api}/events -H "X-API-Key: <apiKey>" -H 'Content-Type: application/json' -d '{"type":"transfer.failed","payload":{"amount":12000}}'`,
      `  curl -s ${api}/events -H "Authorization: Bearer $TOKEN" -H "X-Project-Id: <project id>"   # the event, processed`,
      `  open ${config.http.publicUrl}/docs   # every route, with examples`,
    );
  }
  say(lines.join('\n') + '\n');
}

/**
 * A one-shot command needs a migrated database. Checked first, because the pool only reports
 * "pool timeout" for a database that is missing or unreachable.
 */
async function requireMigratedDatabase(config: Config): Promise<void> {
  const status = await migrationStatus({ url: config.database.url }).catch((err: unknown) => {
    throw new CliError(
      `Cannot reach the database: ${(err as Error).message} (run \`tocsin doctor\`)`,
      EXIT.unavailable,
    );
  });
  if (status.pending.length || status.failed.length || status.edited.length) {
    throw new CliError(
      'The database is not migrated: run `tocsin migrate` (or start the hub once); `tocsin doctor` tells more',
      EXIT.unavailable,
    );
  }
}

/** Runs a one-shot command with the shared services, closing them afterwards. */
async function withServices(run: (services: Services) => Promise<number>): Promise<number> {
  const config = configOrExit();
  await requireMigratedDatabase(config);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const { services, closers } = createServices(config, log);
  try {
    return await run(services);
  } finally {
    await runClosers(closers, log);
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [command, sub, target] = positionals;
  if (values.help || !command) {
    say(USAGE);
    return EXIT.ok;
  }
  switch (`${command}${sub && ['project', 'user', 'schedule'].includes(command) ? ` ${sub}` : ''}`) {
    case 'start': {
      const config = configOrExit();
      const roles = parseRoles(values.role);
      const log = createLogger(
        { level: config.logLevel },
        prettyOutput({ env: config.env, isTTY: process.stdout.isTTY }),
      );
      const running = await startTocsin({ config, roles, log });
      handleShutdownSignals({ closers: () => running.closers, timeoutMs: config.shutdownTimeoutMs, log });
      void running.prepared.then(() => {
        if (config.printBanner) printBanner(config, roles);
      });
      return -1; // keeps running until a signal
    }
    case 'migrate': {
      const config = configOrExit();
      const { applied } = await migrate({ url: config.database.url, log: (line) => say(line) });
      say(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
      return EXIT.ok;
    }
    case 'project create':
      return withServices((s) =>
        projectCreate(s, {
          name: values.name,
          slug: values.slug,
          adminEmail: values['admin-email'],
          adminName: values['admin-name'],
          adminPassword: values['admin-password'],
        }),
      );
    case 'project list':
      return withServices((s) => projectList(s, { search: values.search, status: values.status }));
    case 'project rotate-key':
      return withServices((s) => projectRotateKey(s, target));
    case 'user list':
      return withServices((s) =>
        userList(s, { project: values.project, status: values.status, search: values.search }),
      );
    case 'user approve':
      return withServices((s) =>
        userApprove(s, { project: values.project, user: target, roles: values.roles }),
      );
    case 'rule':
      if (sub !== 'test') throw new CliError(`Unknown command "rule ${sub ?? ''}".\n\n${USAGE}`, EXIT.usage);
      return ruleTest({ condition: values.condition, event: values.event, eventFile: values['event-file'] });
    case 'schedule who':
      return withServices((s) => scheduleWho(s, { project: values.project, at: values.at }));
    case 'retention':
      return withServices(async (s) => {
        const options = { dryRun: values['dry-run'], onProgress: say };
        if (values.project) await applyRetention(s, await resolveProjectId(s, values.project), options);
        else await applyRetentionToAll(s, options);
        return EXIT.ok;
      });
    case 'doctor':
      return doctor();
    default:
      throw new CliError(`Unknown command "${positionals.join(' ')}".\n\n${USAGE}`, EXIT.usage);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exit(EXIT.usage);
    }
    process.stderr.write(`tocsin: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.failure);
  },
);
