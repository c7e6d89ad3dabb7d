// Reads the data model from schema.prisma (the DMMF) and makes valid rows for any model, so
// tests that must cover every model keep covering models added later.
import { readFileSync } from 'node:fs';
import { getDMMF } from '@prisma/internals';
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { uuidv7 } from '../../src/core/ids.js';

export type DmmfModel = Awaited<ReturnType<typeof getDMMF>>['datamodel']['models'][number];
export type DmmfField = DmmfModel['fields'][number];

let cached: Awaited<ReturnType<typeof getDMMF>> | undefined;

export async function readDmmf() {
  cached ??= await getDMMF({
    datamodel: readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'),
  });
  return cached;
}

export const delegateName = (model: string) => model[0]!.toLowerCase() + model.slice(1);

export function primaryKeyFields(model: DmmfModel): string[] {
  return model.primaryKey?.fields.slice() ?? model.fields.filter((f) => f.isId).map((f) => f.name);
}

function scalarValue(field: DmmfField, enums: Map<string, string[]>): unknown {
  if (field.kind === 'enum') return enums.get(field.type)![0];
  const [nativeName, nativeArgs] = (field.nativeType ?? []) as [string?, string[]?];
  const length = nativeArgs?.[0] ? Number(nativeArgs[0]) : 64;
  switch (field.type) {
    case 'String':
      if (nativeName === 'Char' && length === 36) return uuidv7();
      return randomBytes(32).toString('hex').slice(0, Math.min(length, 32));
    case 'Int':
      return 1;
    case 'Boolean':
      return false;
    case 'Json':
      return {};
    case 'DateTime':
      return new Date();
    case 'Decimal':
      return '1.5';
    default:
      throw new Error(`No test value for ${field.name}: ${field.type}`);
  }
}

/**
 * Creates one row of `modelName` in `projectId` (through the unscoped client), creating the
 * rows its required relations point to first, in the same project.
 */
export async function createRow(
  system: PrismaClient,
  modelName: string,
  projectId: string | undefined,
): Promise<Record<string, unknown>> {
  const dmmf = await readDmmf();
  const models = new Map(dmmf.datamodel.models.map((m) => [m.name, m]));
  const enums = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.values.map((v) => v.name)]));
  const model = models.get(modelName)!;
  const data: Record<string, unknown> = {};
  for (const relation of model.fields.filter((f) => f.kind === 'object' && f.relationFromFields?.length)) {
    if (!relation.isRequired) continue;
    const from = relation.relationFromFields!;
    const to = relation.relationToFields!;
    if (relation.type === 'Project' && projectId) {
      data[from[0]!] = projectId;
      continue;
    }
    const parent = await createRow(system, relation.type, projectId);
    from.forEach((name, i) => (data[name] = parent[to[i]!]));
  }
  for (const field of model.fields) {
    if (field.kind === 'object' || field.name in data) continue;
    if (field.name === 'projectId' && projectId) data.projectId = projectId;
    else if (field.isRequired && !field.hasDefaultValue && !field.isUpdatedAt)
      data[field.name] = scalarValue(field, enums);
  }
  const delegate = (
    system as unknown as Record<string, { create(args: unknown): Promise<Record<string, unknown>> }>
  )[delegateName(modelName)]!;
  return delegate.create({ data });
}
