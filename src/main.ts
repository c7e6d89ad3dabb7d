#!/usr/bin/env node
// The `tocsin` command line. Exit codes: 0 ok, 1 failure, 64 usage, 69 unavailable, 78 config.
// Each command imports only the modules it needs, when it runs: `--help` and the offline
// `rule test` never load the server, Prisma or the Redis client.
// First import: .env is read before any other module runs.
import './core/load-env-file.js';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import type { Config } from './core/config.js';
import { parseMysqlUrl } from './core/mysql-url.js';
import { CliError, EXIT, progress, say } from './cli/output.js';
import type { Services } from './services.js';

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
  admin reset-password [--email E] [--stdin]
                                          give a super admin a new password (default TOCSIN_ADMIN_EMAIL):
                                          generated and printed once, or read from stdin with --stdin
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
  email: { type: 'string' },
  stdin: { type: 'boolean', default: false },
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

async function configOrExit(): Promise<Config> {
  const { ConfigError, loadConfig } = await import('./core/config.js');
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.config);
    throw err;
  }
}

/**
 * A one-shot command needs a migrated database. Checked first, because the pool only reports
 * "pool timeout" for a database that is missing or unreachable.
 */
async function requireMigratedDatabase(config: Config): Promise<void> {
  const { host, port } = parseMysqlUrl(config.database.url);
  progress(`Connecting to MySQL at ${host}:${port}`);
  const { migrationStatus } = await import('./core/migrate.js');
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
  const config = await configOrExit();
  await requireMigratedDatabase(config);
  // Prisma compiles queries in WebAssembly. V8's optimising tier recompiles that module in the
  // background, and exit waits for it: seconds of a one-shot command spent on code it never runs
  // again. The baseline tier alone suits a few queries (`start` keeps the default).
  setFlagsFromString('--liftoff-only');
  const [{ createLogger }, { runClosers }, { createServices }] = await Promise.all([
    import('./core/log.js'),
    import('./core/shutdown.js'),
    import('./services.js'),
  ]);
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
  switch (`${command}${sub && ['project', 'user', 'admin', 'schedule'].includes(command) ? ` ${sub}` : ''}`) {
    case 'start': {
      const config = await configOrExit();
      const { start } = await import('./cli/start.js');
      await start(config, values.role);
      return -1; // keeps running until a signal
    }
    case 'migrate': {
      const config = await configOrExit();
      const { migrate } = await import('./core/migrate.js');
      progress('Applying pending migrations');
      const { applied } = await migrate({ url: config.database.url, log: (line) => say(line) });
      say(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
      return EXIT.ok;
    }
    case 'project create': {
      const { projectCreate, projectCreateInput } = await import('./cli/project.js');
      const input = projectCreateInput({
        name: values.name,
        slug: values.slug,
        adminEmail: values['admin-email'],
        adminName: values['admin-name'],
        adminPassword: values['admin-password'],
      });
      return withServices((s) => projectCreate(s, input));
    }
    case 'project list': {
      const { projectList } = await import('./cli/project.js');
      return withServices((s) => projectList(s, { search: values.search, status: values.status }));
    }
    case 'project rotate-key': {
      const { projectRotateKey } = await import('./cli/project.js');
      return withServices((s) => projectRotateKey(s, target));
    }
    case 'user list': {
      const { userList } = await import('./cli/user.js');
      return withServices((s) =>
        userList(s, { project: values.project, status: values.status, search: values.search }),
      );
    }
    case 'user approve': {
      const { userApprove } = await import('./cli/user.js');
      return withServices((s) =>
        userApprove(s, { project: values.project, user: target, roles: values.roles }),
      );
    }
    case 'admin reset-password': {
      const { adminResetPassword } = await import('./cli/admin.js');
      return withServices((s) => adminResetPassword(s, { email: values.email, stdin: values.stdin }));
    }
    case 'rule': {
      if (sub !== 'test') throw new CliError(`Unknown command "rule ${sub ?? ''}".\n\n${USAGE}`, EXIT.usage);
      const { ruleTest } = await import('./cli/rule.js');
      return ruleTest({ condition: values.condition, event: values.event, eventFile: values['event-file'] });
    }
    case 'schedule who': {
      const { scheduleWho } = await import('./cli/schedule.js');
      return withServices((s) => scheduleWho(s, { project: values.project, at: values.at }));
    }
    case 'retention': {
      const [{ applyRetention, applyRetentionToAll }, { resolveProjectId }] = await Promise.all([
        import('./domain/retention.js'),
        import('./cli/project.js'),
      ]);
      return withServices(async (s) => {
        const options = { dryRun: values['dry-run'], onProgress: say };
        if (values.project) await applyRetention(s, await resolveProjectId(s, values.project), options);
        else await applyRetentionToAll(s, options);
        return EXIT.ok;
      });
    }
    case 'doctor': {
      const { doctor } = await import('./cli/doctor.js');
      return doctor();
    }
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
