// The isolation test that cannot rot: every model with a projectId, read from the schema,
// must be invisible and untouchable through another project's scoped client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, TENANT_MODELS, type Db } from '../../src/core/db.js';
import { testConfig } from '../support/env.js';
import { createRow, delegateName, primaryKeyFields, readDmmf, type DmmfModel } from '../support/models.js';

type Delegate = Record<string, (args?: unknown) => Promise<unknown>>;

const dmmf = await readDmmf();
const tenantModels = dmmf.datamodel.models.filter((m) => m.fields.some((f) => f.name === 'projectId'));

let db: Db;
let projectA: string;
let projectB: string;

beforeAll(async () => {
  db = createDb(testConfig().database);
  projectA = (await createRow(db.system, 'Project', undefined)).id as string;
  projectB = (await createRow(db.system, 'Project', undefined)).id as string;
});
afterAll(() => db.close());

const delegate = (client: unknown, model: DmmfModel) =>
  (client as Record<string, Delegate>)[delegateName(model.name)]!;

function uniqueWhere(model: DmmfModel, row: Record<string, unknown>) {
  const keys = primaryKeyFields(model);
  const values = Object.fromEntries(keys.map((k) => [k, row[k]]));
  return keys.length === 1 ? values : { [keys.join('_')]: values };
}

describe('tenant scoping', () => {
  it('finds the tenant models in the schema, and the scoping extension knows each of them', () => {
    expect(tenantModels.length).toBeGreaterThanOrEqual(10);
    expect([...TENANT_MODELS].sort()).toEqual(tenantModels.map((m) => m.name).sort());
  });

  describe.each(tenantModels.map((m) => [m.name, m] as const))('%s', (_name, model) => {
    const keyOf = (row: Record<string, unknown>) =>
      Object.fromEntries(primaryKeyFields(model).map((k) => [k, row[k]]));
    let rowA: Record<string, unknown>;
    let rowB: Record<string, unknown>;
    let pk: Record<string, unknown>;
    beforeAll(async () => {
      rowA = await createRow(db.system, model.name, projectA);
      pk = keyOf(rowA);
      rowB = await createRow(db.system, model.name, projectB);
    });

    it('is visible to its own project', async () => {
      const own = delegate(db.forProject(projectA), model);
      expect(await own.findFirst!({ where: pk })).not.toBeNull();
      expect(await own.findUnique!({ where: uniqueWhere(model, rowA) })).not.toBeNull();
    });

    it("cannot be found or counted through another project's client", async () => {
      const other = delegate(db.forProject(projectB), model);
      expect(await other.findFirst!({ where: pk })).toBeNull();
      expect(await other.findMany!({ where: pk })).toEqual([]);
      expect(await other.findUnique!({ where: uniqueWhere(model, rowA) })).toBeNull();
      expect(await other.count!({ where: pk })).toBe(0);
      // A caller naming the other project in its filter does not widen the scope.
      expect(await other.findMany!({ where: { ...pk, projectId: projectA } })).toEqual([]);
      const namedA = (await other.findMany!({ where: { projectId: projectA } })) as Array<{
        projectId: string;
      }>;
      expect(namedA.map((r) => r.projectId)).not.toContain(projectA);
      const everyB = (await other.findMany!()) as Array<{ projectId: string }>;
      expect(everyB.length).toBeGreaterThan(0);
      expect(everyB.every((r) => r.projectId === projectB)).toBe(true);
    });

    it("cannot be changed or deleted through another project's client", async () => {
      const other = delegate(db.forProject(projectB), model);
      await expect(other.update!({ where: uniqueWhere(model, rowA), data: {} })).rejects.toMatchObject({
        code: 'P2025',
      });
      await expect(other.delete!({ where: uniqueWhere(model, rowA) })).rejects.toMatchObject({
        code: 'P2025',
      });
      expect(await other.updateMany!({ where: pk, data: {} })).toEqual({ count: 0 });
      expect(await other.updateMany!({ where: { ...pk, projectId: projectA }, data: {} })).toEqual({
        count: 0,
      });
      expect(await other.deleteMany!({ where: { ...pk, projectId: projectA } })).toEqual({ count: 0 });
      expect(await other.deleteMany!({ where: pk })).toEqual({ count: 0 });
      expect(await delegate(db.system, model).findFirst!({ where: pk })).toMatchObject({
        projectId: projectA,
      });
    });

    it('cannot be written into another project', async () => {
      const other = delegate(db.forProject(projectB), model);
      await expect(other.updateMany!({ where: pk, data: { projectId: projectA } })).rejects.toThrow(
        /Tenant violation/,
      );
      await expect(other.create!({ data: { projectId: projectA } })).rejects.toThrow(/Tenant violation/);
      // An upsert that finds B's row must not move it to A through its update.
      await expect(
        other.upsert!({ where: uniqueWhere(model, rowB), create: {}, update: { projectId: projectA } }),
      ).rejects.toThrow(/Tenant violation/);
      expect(await delegate(db.system, model).findFirst!({ where: keyOf(rowB) })).toMatchObject({
        projectId: projectB,
      });
    });
  });
});
