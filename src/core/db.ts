// Prisma 7 over the MariaDB driver adapter. `forProject(id)` is the one tenancy mechanism:
// a client extension that adds `projectId` to every where and data of tenant models, so a
// handler cannot forget it. `system` is the explicit, unscoped client for system code.
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient, Prisma } from '../generated/prisma/client.js';
import { parseMysqlUrl } from './mysql-url.js';

export { Prisma };

/** Models that carry `projectId` — read from the generated client, so a new model is scoped automatically. */
export const TENANT_MODELS: ReadonlySet<string> = new Set(
  Object.values(Prisma.ModelName).filter((model) => {
    const fields = (Prisma as unknown as Record<string, Record<string, string> | undefined>)[
      `${model}ScalarFieldEnum`
    ];
    return fields !== undefined && 'projectId' in fields;
  }),
);

export function createPrismaClient(options: { url: string; poolSize: number }): PrismaClient {
  const target = parseMysqlUrl(options.url);
  const adapter = new PrismaMariaDb({
    ...target,
    connectionLimit: options.poolSize,
    // Fail fast while MySQL is down, so /ready answers 503 instead of hanging.
    connectTimeout: 2_000,
    acquireTimeout: 5_000,
  });
  return new PrismaClient({ adapter });
}

type Args = Record<string, unknown> & { where?: unknown; data?: unknown; create?: unknown };

function scopeData(data: unknown, projectId: string): unknown {
  if (Array.isArray(data)) return data.map((item) => scopeData(item, projectId));
  if (data === null || typeof data !== 'object') return data;
  const record = data as Record<string, unknown>;
  if ('projectId' in record && record.projectId !== projectId) {
    throw new Error('Tenant violation: data names another project');
  }
  return { ...record, projectId };
}

function guardUpdate(data: unknown, projectId: string): unknown {
  const record = data as Record<string, unknown> | undefined;
  if (record && 'projectId' in record && record.projectId !== projectId) {
    throw new Error('Tenant violation: cannot move a row to another project');
  }
  return data;
}

/** Adds the tenant filter and data to one model operation's arguments. */
export function scopeArgs(operation: string, args: Args | undefined, projectId: string): Args {
  const scoped: Args = { ...(args ?? {}) };
  switch (operation) {
    case 'create':
    case 'createMany':
    case 'createManyAndReturn':
      scoped.data = scopeData(scoped.data, projectId);
      return scoped;
    case 'upsert':
      scoped.where = { ...(scoped.where as object), projectId };
      scoped.create = scopeData(scoped.create, projectId);
      guardUpdate(scoped.update, projectId);
      return scoped;
    case 'update':
    case 'updateMany':
    case 'updateManyAndReturn':
      guardUpdate(scoped.data, projectId);
      scoped.where = { ...(scoped.where as object), projectId };
      return scoped;
    default:
      // find*, count, aggregate, groupBy, delete, deleteMany
      scoped.where = { ...(scoped.where as object), projectId };
      return scoped;
  }
}

export function scopeToProject(client: PrismaClient, projectId: string) {
  return client.$extends({
    name: 'tenant-scope',
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          if (!TENANT_MODELS.has(model)) return query(args);
          return query(scopeArgs(operation, args as Args, projectId) as typeof args);
        },
      },
    },
  });
}

export type ProjectDb = ReturnType<typeof scopeToProject>;

export interface Db {
  system: PrismaClient;
  forProject(projectId: string): ProjectDb;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const SCOPED_CACHE_SIZE = 1000;

export function createDb(options: { url: string; poolSize: number }): Db {
  const system = createPrismaClient(options);
  // Extending is cheap but not free; hot projects reuse their scoped client.
  const scoped = new Map<string, ProjectDb>();
  return {
    system,
    forProject(projectId) {
      let client = scoped.get(projectId);
      if (!client) {
        if (scoped.size >= SCOPED_CACHE_SIZE) scoped.delete(scoped.keys().next().value!);
        client = scopeToProject(system, projectId);
        scoped.set(projectId, client);
      }
      return client;
    },
    async ping() {
      await system.$queryRaw`SELECT 1`;
    },
    close: () => system.$disconnect(),
  };
}

/** A write refused by a unique index (Prisma's P2002): the row exists already. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown }).code === 'P2002';

/** An update or delete of a row that does not exist (Prisma's P2025). */
export const isRecordMissing = (err: unknown): boolean => (err as { code?: unknown }).code === 'P2025';

/**
 * An error that says MySQL is unreachable (the pool cannot hand out a connection, the server
 * refused or dropped it), not that the query was wrong.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (code === 'P1001' || code === 'P1002' || code === 'P1017') return true;
  return /pool timeout|ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket has unexpectedly been closed|Connection closed|connection refused/i.test(
    err.message,
  );
}
