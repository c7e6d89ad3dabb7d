// `tocsin project create|list|rotate-key`: the super-admin project operations, for operators
// at a shell (same domain code as the REST API, audited as the system).
import type { Services } from '../services.js';
import * as projects from '../domain/projects.js';
import type { Principal } from '../domain/principal.js';
import { CliError, EXIT, progress, say, sayPage } from './output.js';

const operator: Principal = { kind: 'system' };

/** Which option of `project create` carries each field of the schema. */
const OPTION_OF: Record<string, string> = {
  name: '--name',
  slug: '--slug',
  'admin.email': '--admin-email',
  'admin.fullName': '--admin-name',
  'admin.password': '--admin-password',
};

/** The options of `project create`, checked with the REST API's schema before anything connects. */
export function projectCreateInput(options: {
  name?: string;
  slug?: string;
  adminEmail?: string;
  adminName?: string;
  adminPassword?: string;
}): projects.CreateProjectInput {
  if (!options.name || !options.slug) {
    throw new CliError(
      'project create needs --name and --slug (and optionally --admin-email, --admin-name)',
      EXIT.usage,
    );
  }
  const parsed = projects.newProjectSchema.safeParse({
    name: options.name,
    slug: options.slug,
    ...(options.adminEmail
      ? {
          admin: {
            email: options.adminEmail,
            fullName: options.adminName ?? options.adminEmail,
            password: options.adminPassword,
          },
        }
      : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const option = OPTION_OF[issue.path.join('.')] ?? issue.path.join('.');
    throw new CliError(`${option}: ${issue.message}`, EXIT.usage);
  }
  return parsed.data;
}

export async function projectCreate(services: Services, input: projects.CreateProjectInput): Promise<number> {
  progress(`Creating project "${input.slug}"`);
  const created = await projects.createProject(services, operator, input);
  say(`Project created: ${created.project.name} (${created.project.slug})`);
  say(`  id              ${created.project.id}`);
  say(`  API key         ${created.apiKey}   <- shown only now; store it safely`);
  say(`  gateway app id  ${created.gateway.appId}`);
  say(`  gateway key     ${created.gateway.key}`);
  say(`  gateway secret  ${created.gateway.secret}   <- shown only now`);
  if (created.admin) {
    say(`  admin           ${created.admin.email}`);
    if (created.admin.setupToken)
      say(`  setup token     ${created.admin.setupToken}   (POST /api/v1/auth/setup-password)`);
  }
  return EXIT.ok;
}

export async function projectList(
  services: Services,
  options: { search?: string; status?: string },
): Promise<number> {
  const status = options.status as projects.ProjectStatusFilter | undefined;
  if (status && !['active', 'disabled', 'deleted'].includes(status)) {
    throw new CliError('--status is one of active, disabled, deleted', EXIT.usage);
  }
  const page = await projects.listProjects(services, {
    page: 1,
    pageSize: 200,
    search: options.search,
    status,
  });
  sayPage(page, 'projects', ['ID', 'SLUG', 'NAME', 'STATUS', 'KEY PREFIX', 'CREATED'], (p) => [
    p.id,
    p.slug,
    p.name,
    p.status,
    p.apiKeyPrefix,
    p.createdAt.toISOString(),
  ]);
  return EXIT.ok;
}

/** Accepts an id or a slug. */
async function resolveProjectId(services: Services, ref: string | undefined): Promise<string> {
  if (!ref) throw new CliError('Name the project: its id or slug', EXIT.usage);
  const row = await services.db.system.project.findFirst({
    where: { OR: [{ id: ref }, { slug: ref }], deletedAt: null },
    select: { id: true },
  });
  if (!row) throw new CliError(`No project "${ref}"`);
  return row.id;
}

export async function projectRotateKey(services: Services, ref: string | undefined): Promise<number> {
  const projectId = await resolveProjectId(services, ref);
  progress('Replacing the API key');
  const { apiKey } = await projects.regenerateApiKey(services, operator, projectId);
  say(`New API key: ${apiKey}   <- shown only now; the old key no longer works`);
  return EXIT.ok;
}

export { resolveProjectId };
