// schema.prisma and prisma/migrations must describe the same database: apply the migrations to a
// scratch database and compare its information_schema with the schema's DMMF.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import mariadb from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/core/migrate.js';
import { diffSchemas, schemaFromDatabase, schemaFromPrisma } from '../support/dmmf.js';
import { ADMIN_URL } from '../support/env.js';

const SCHEMA_PATH = new URL('../../prisma/schema.prisma', import.meta.url);

let admin: mariadb.Connection;
let schemaText: string;
let migratedDatabase: string;
const scratchDatabases: string[] = [];

function openAdminConnection(): Promise<mariadb.Connection> {
  const url = new URL(ADMIN_URL);
  return mariadb.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  });
}

async function createMigratedDatabase(): Promise<string> {
  const database = `tocsin_mig_${process.env.VITEST_POOL_ID ?? 0}_${randomBytes(4).toString('hex')}`;
  scratchDatabases.push(database);
  await migrate({ url: `${ADMIN_URL}/${database}` });
  return database;
}

beforeAll(async () => {
  admin = await openAdminConnection();
  schemaText = await readFile(SCHEMA_PATH, 'utf8');
  migratedDatabase = await createMigratedDatabase();
});

afterAll(async () => {
  for (const database of scratchDatabases) await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
});

describe('schema.prisma against the migrated database', () => {
  it('has the same tables, columns, keys, indexes and foreign keys', async () => {
    const expected = await schemaFromPrisma(schemaText);
    const actual = await schemaFromDatabase(admin, migratedDatabase);

    expect(diffSchemas(expected, actual)).toEqual([]);
    expect(actual).toEqual(expected);
  });

  it('reports a model added to schema.prisma without a migration', async () => {
    const withNewModel = `${schemaText}\nmodel Orphan {\n  id String @id @db.Char(36)\n}\n`;
    const expected = await schemaFromPrisma(withNewModel);

    expect(diffSchemas(expected, await schemaFromDatabase(admin, migratedDatabase))).toEqual([
      expect.stringMatching(/^missing from the database: Orphan = \{"collation"/),
    ]);
  });

  it('reports a changed column, a missing index, a changed foreign key and an extra table', async () => {
    const database = await createMigratedDatabase();
    const table = (name: string) => `\`${database}\`.\`${name}\``;
    await admin.query(`ALTER TABLE ${table('Rule')} MODIFY \`name\` VARCHAR(100) NOT NULL`);
    await admin.query(`DROP INDEX \`Event_projectId_type_receivedAt_idx\` ON ${table('Event')}`);
    await admin.query(`ALTER TABLE ${table('Device')} DROP FOREIGN KEY \`Device_userId_fkey\``);
    await admin.query(
      `ALTER TABLE ${table('Device')} ADD CONSTRAINT \`Device_userId_fkey\` FOREIGN KEY (\`userId\`)
       REFERENCES ${table('User')}(\`id\`) ON DELETE RESTRICT ON UPDATE CASCADE`,
    );
    await admin.query(`CREATE TABLE ${table('Stray')} (\`id\` INT NOT NULL PRIMARY KEY)`);

    const diff = diffSchemas(await schemaFromPrisma(schemaText), await schemaFromDatabase(admin, database));

    expect(diff).toEqual([
      'Device.foreignKeys.Device_userId_fkey.onDelete: schema.prisma has "CASCADE", the database has "RESTRICT"',
      'missing from the database: Event.indexes.Event_projectId_type_receivedAt_idx = ' +
        '{"kind":"normal","columns":["projectId","type","receivedAt"]}',
      'Rule.columns.name.type: schema.prisma has "varchar(120)", the database has "varchar(100)"',
      expect.stringMatching(/^not in schema\.prisma: Stray = /),
    ]);
  });
});
