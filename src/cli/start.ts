// `tocsin start`: runs the hub's roles in this process until a signal, with a banner once ready.
import type { Config } from '../core/config.js';
import { createLogger, prettyOutput } from '../core/log.js';
import { handleShutdownSignals } from '../core/shutdown.js';
import { ROLES, startTocsin, type Role } from '../start.js';
import { CliError, EXIT, say } from './output.js';

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

/** Starts the roles named by `--role` (`all` or a comma-separated list) and keeps running. */
export async function start(config: Config, roleOption: string): Promise<void> {
  const roles = parseRoles(roleOption);
  const log = createLogger(
    { level: config.logLevel },
    prettyOutput({ env: config.env, isTTY: process.stdout.isTTY }),
  );
  const running = await startTocsin({ config, roles, log });
  handleShutdownSignals({ closers: () => running.closers, timeoutMs: config.shutdownTimeoutMs, log });
  void running.prepared.then(() => {
    if (config.printBanner) printBanner(config, roles);
  });
}
