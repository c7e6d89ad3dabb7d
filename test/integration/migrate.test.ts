// The migration runner against a real server: it must behave like `prisma migrate deploy` and
// leave _prisma_migrations exactly as Prisma writes it.
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mariadb from 'mariadb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationError, migrate, migrationStatus, splitStatements } from '../../src/core/migrate.js';
import { ADMIN_URL } from '../support/env.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

let admin: mariadb.Connection;
let migrationNames: string[];
const scratchDatabases: string[] = [];
const tempDirs: string[] = [];

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

function openAdminConnection(): Promise<mariadb.Connection> {
  const url = new URL(ADMIN_URL);
  return mariadb.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  });
}

/** A database name nobody else uses; dropped after the file. */
function scratchDatabase(): { database: string; url: string } {
  const database = `tocsin_mig_${process.env.VITEST_POOL_ID ?? 0}_${randomBytes(4).toString('hex')}`;
  scratchDatabases.push(database);
  return { database, url: `${ADMIN_URL}/${database}` };
}

/** A migrations directory holding the given scripts, by migration name. */
async function migrationsDir(scripts: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-migrations-'));
  tempDirs.push(dir);
  for (const [name, sql] of Object.entries(scripts)) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function copyOfRealMigrations(): Promise<string> {
  const dir = await migrationsDir({});
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

function history(database: string): Promise<MigrationRow[]> {
  return admin.query(`SELECT * FROM \`${database}\`._prisma_migrations ORDER BY started_at, migration_name`);
}

async function tables(database: string): Promise<string[]> {
  const rows = await admin.query<{ name: string }[]>(
    'SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [database],
  );
  return rows.map((row) => row.name).sort();
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  admin = await openAdminConnection();
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  migrationNames = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
});

afterAll(async () => {
  for (const database of scratchDatabases) await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin.end();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('migrate', () => {
  it('applies every migration to a fresh database, then nothing on a second run', async () => {
    const { url } = scratchDatabase();
    const lines: string[] = [];

    const first = await migrate({ url, log: (line) => lines.push(line) });
    const second = await migrate({ url, log: (line) => lines.push(line) });

    expect(first).toEqual({ applied: migrationNames, pending: migrationNames });
    expect(second).toEqual({ applied: [], pending: [] });
    expect(lines).toEqual(migrationNames.map((name) => expect.stringMatching(`^Applied migration ${name} `)));
    expect(await migrationStatus({ url })).toEqual({
      applied: migrationNames,
      pending: [],
      failed: [],
      edited: [],
      missing: [],
    });
  });

  it('writes _prisma_migrations as Prisma does', async () => {
    const { database, url } = scratchDatabase();
    await migrate({ url });

    const rows = await history(database);
    expect(rows.map((row) => row.migration_name)).toEqual(migrationNames);
    for (const row of rows) {
      const script = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        checksum: sha256(script),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1, // Prisma counts a whole script as one step
      });
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }

    // Prisma's own DDL for the table (sql-schema-connector, flavour/mysql.rs).
    const columns = await admin.query<
      { name: string; type: string; nullable: string; fallback: string | null }[]
    >(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS fallback
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_prisma_migrations'
        ORDER BY ORDINAL_POSITION`,
      [database],
    );
    // MariaDB shows int(10) and writes NULL for "no default"; MySQL 8 does neither.
    const described = columns.map(({ name, type, nullable, fallback }) => [
      name,
      `${type.replace(/^int\(\d+\)/, 'int')}${nullable === 'NO' ? ' not null' : ''}`,
      fallback === null || fallback === 'NULL' ? null : fallback.toLowerCase(),
    ]);
    expect(described).toEqual([
      ['id', 'varchar(36) not null', null],
      ['checksum', 'varchar(64) not null', null],
      ['finished_at', 'datetime(3)', null],
      ['migration_name', 'varchar(255) not null', null],
      ['logs', 'text', null],
      ['rolled_back_at', 'datetime(3)', null],
      ['started_at', 'datetime(3) not null', 'current_timestamp(3)'],
      ['applied_steps_count', 'int unsigned not null', '0'],
    ]);
    const [primaryKey] = await admin.query<{ columns: string }[]>(
      `SELECT GROUP_CONCAT(COLUMN_NAME) AS columns FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_prisma_migrations' AND INDEX_NAME = 'PRIMARY'`,
      [database],
    );
    expect(primaryKey?.columns).toBe('id');
  });

  it('reports pending migrations without creating the database', async () => {
    const { database, url } = scratchDatabase();

    expect(await migrationStatus({ url })).toEqual({
      applied: [],
      pending: migrationNames,
      failed: [],
      edited: [],
      missing: [],
    });
    const schemata = await admin.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
      database,
    ]);
    expect(schemata).toHaveLength(0);
  });

  it('applies each migration once when two processes migrate the same fresh database', async () => {
    const { database, url } = scratchDatabase();

    const results = await Promise.all([migrate({ url }), migrate({ url })]);

    expect(results.flatMap((result) => result.applied).sort()).toEqual(migrationNames);
    expect((await history(database)).map((row) => row.migration_name)).toEqual(migrationNames);
  });

  it('refuses an applied migration whose file was edited, but not one whose line endings changed', async () => {
    const { url } = scratchDatabase();
    const dir = await copyOfRealMigrations();
    await migrate({ url, dir });
    const [name] = migrationNames as [string];
    const file = join(dir, name, 'migration.sql');
    const original = await readFile(file, 'utf8');

    await writeFile(file, original.replaceAll('\n', '\r\n')); // what git may do on Windows
    expect(await migrate({ url, dir })).toEqual({ applied: [], pending: [] });

    await writeFile(file, `${original}\n-- an afterthought\n`);
    const refusal = migrate({ url, dir });
    await expect(refusal).rejects.toBeInstanceOf(MigrationError);
    await expect(refusal).rejects.toMatchObject({
      code: 'edited_migration',
      migrations: [name],
      message: expect.stringContaining(name),
    });
    expect((await migrationStatus({ url, dir })).edited).toEqual([name]);
  });

  it('refuses a database that has a migration the directory no longer has', async () => {
    const { url } = scratchDatabase();
    const dir = await migrationsDir({
      '0001_first': 'CREATE TABLE `first` (`id` INT NOT NULL, PRIMARY KEY (`id`));\n',
      '0002_second': 'CREATE TABLE `second` (`id` INT NOT NULL, PRIMARY KEY (`id`));\n',
    });
    await migrate({ url, dir });
    await rm(join(dir, '0002_second'), { recursive: true });

    await expect(migrate({ url, dir })).rejects.toMatchObject({
      code: 'missing_migration',
      migrations: ['0002_second'],
    });
    expect((await migrationStatus({ url, dir })).missing).toEqual(['0002_second']);
  });

  it('records a failed migration, refuses to go on, and resumes once it is marked rolled back', async () => {
    const { database, url } = scratchDatabase();
    const dir = await migrationsDir({
      '0001_ok': "CREATE TABLE `ok` (`id` INT NOT NULL, `note` VARCHAR(20) NOT NULL DEFAULT 'a;b');\n",
      '0002_broken': 'CREATE TABLE `half` (`id` INT NOT NULL);\nCREATE TABLEX `oops`;\n',
      '0003_later': 'CREATE TABLE `later` (`id` INT NOT NULL);\n',
    });
    const lines: string[] = [];

    await expect(migrate({ url, dir, log: (line) => lines.push(line) })).rejects.toMatchObject({
      code: 'failed_migration',
      migrations: ['0002_broken'],
    });
    expect(lines).toEqual([expect.stringMatching(/^Applied migration 0001_ok /)]);
    const failed = (await history(database)).find((row) => row.migration_name === '0002_broken');
    expect(failed).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(failed?.logs).toContain('Migration name: 0002_broken');
    expect(failed?.logs).toContain('Database error code: 1064');
    expect(failed?.logs).toContain('Please check the query number 2 from the migration file.');
    // MySQL DDL is not transactional: the first statement stays applied.
    expect(await tables(database)).toEqual(['_prisma_migrations', 'half', 'ok']);

    await expect(migrate({ url, dir })).rejects.toMatchObject({
      code: 'failed_migration',
      message: expect.stringContaining('The `0002_broken` migration started at'),
    });
    expect(await tables(database)).not.toContain('later');
    expect(await migrationStatus({ url, dir })).toMatchObject({
      applied: ['0001_ok'],
      pending: ['0003_later'],
      failed: ['0002_broken'],
    });

    // What `prisma migrate resolve --rolled-back 0002_broken` does, after the script is fixed.
    await admin.query(
      `UPDATE \`${database}\`._prisma_migrations SET rolled_back_at = UTC_TIMESTAMP(3)
        WHERE migration_name = '0002_broken'`,
    );
    await writeFile(
      join(dir, '0002_broken', 'migration.sql'),
      'DROP TABLE IF EXISTS `half`;\nCREATE TABLE `half` (`id` INT NOT NULL);\n',
    );
    expect(await migrate({ url, dir })).toEqual({
      applied: ['0002_broken', '0003_later'],
      pending: ['0002_broken', '0003_later'],
    });
  });

  it('gives up with lock_timeout while another session applies migrations', async () => {
    const { url } = scratchDatabase();
    const holder = await openAdminConnection();
    try {
      await holder.query("SELECT GET_LOCK('prisma_migrate', 60)");
      await expect(migrate({ url, lockTimeoutSeconds: 1 })).rejects.toMatchObject({ code: 'lock_timeout' });
    } finally {
      await holder.end(); // ending the session releases the lock
    }
  });

  it('refuses a database that has tables but no migration history', async () => {
    const { database, url } = scratchDatabase();
    await admin.query(`CREATE DATABASE \`${database}\``);
    await admin.query(`CREATE TABLE \`${database}\`.\`legacy\` (\`id\` INT NOT NULL)`);

    await expect(migrate({ url })).rejects.toMatchObject({ code: 'schema_not_empty' });
  });

  it('rejects a URL that is not mysql:// or names no database', async () => {
    await expect(migrate({ url: 'postgres://root@127.0.0.1/tocsin' })).rejects.toMatchObject({
      code: 'invalid_url',
    });
    await expect(migrate({ url: 'mysql://root@127.0.0.1:3306/' })).rejects.toMatchObject({
      code: 'invalid_url',
    });
  });
});

describe('splitStatements', () => {
  it('splits on semicolons outside strings, identifiers and comments', () => {
    const script = [
      '-- CreateTable',
      "CREATE TABLE `a;b` (`x` VARCHAR(9) DEFAULT 'it''s;', `y` VARCHAR(9) DEFAULT 'back\\';slash');",
      '/* block; comment */ INSERT INTO t VALUES ("dq;");',
      '# hash comment;',
      '/*!40101 SET NAMES utf8mb4 */;',
      'SELECT 1',
    ].join('\n');

    expect(splitStatements(script)).toEqual([
      "-- CreateTable\nCREATE TABLE `a;b` (`x` VARCHAR(9) DEFAULT 'it''s;', `y` VARCHAR(9) DEFAULT 'back\\';slash')",
      '/* block; comment */ INSERT INTO t VALUES ("dq;")',
      '# hash comment;\n/*!40101 SET NAMES utf8mb4 */',
      'SELECT 1',
    ]);
  });

  it('drops chunks that hold only comments or whitespace', () => {
    expect(splitStatements('-- nothing;\n\n;  ;\n/* still nothing */\n')).toEqual([]);
  });
});
