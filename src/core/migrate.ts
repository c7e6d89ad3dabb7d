// Applies prisma/migrations the way `prisma migrate deploy` does: Prisma's schema-engine binary
// cannot be downloaded on our machines. `_prisma_migrations` is written exactly as Prisma writes it
// (same DDL, sha256 checksums, one applied step per migration, UTC timestamps), so the official
// CLI (`migrate status`, `migrate resolve`, `migrate deploy`) works on the same database.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mariadb from 'mariadb';

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// Prisma's lock name, so our runner and the official CLI never apply at the same time.
// GET_LOCK names are server-wide and the lock ends with the session that holds it.
const LOCK_NAME = 'prisma_migrate';
// Longer than Prisma's 10 s: a replica that starts while another one runs a long migration
// must wait for it, not fail. A lock can never be stale, so waiting is safe.
const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;

const RESOLVE_DOCS = 'https://pris.ly/d/migrate-resolve';

// Prisma's own DDL (sql-schema-connector, flavour/mysql.rs).
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             DATETIME(3),
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          DATETIME(3),
    started_at              DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_steps_count     INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

export type MigrationErrorCode =
  | 'failed_migration'
  | 'edited_migration'
  | 'missing_migration'
  | 'lock_timeout'
  | 'schema_not_empty'
  | 'provider_mismatch'
  | 'invalid_url';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    /** The migrations the error is about, by directory name. */
    readonly migrations: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrateOptions {
  /** mysql://user:password@host:port/database — query parameters are ignored. */
  url: string;
  /** Defaults to prisma/migrations at the repository root. */
  dir?: string;
  log?: (line: string) => void;
  lockTimeoutSeconds?: number;
}

export interface MigrateResult {
  /** Migrations this call applied, in order. */
  applied: string[];
  /** Migrations that were pending when this call took the lock. */
  pending: string[];
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Started but neither finished nor rolled back (`prisma migrate resolve` clears them). */
  failed: string[];
  /** Applied, but the file no longer has the checksum recorded for it. */
  edited: string[];
  /** Applied, but no longer in the migrations directory. */
  missing: string[];
}

interface DatabaseTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

interface LocalMigration {
  name: string;
  script: Buffer;
}

interface MigrationRecord {
  id: string;
  checksum: string;
  migration_name: string;
  logs: string | null;
  started_at: string;
  finished_at: string | null;
  rolled_back_at: string | null;
}

interface HistoryReport extends Omit<MigrationStatus, 'failed'> {
  failed: MigrationRecord[];
}

/** Applies every pending migration, in name order, under Prisma's advisory lock. */
export async function migrate(opts: MigrateOptions): Promise<MigrateResult> {
  const target = parseDatabaseUrl(opts.url);
  const dir = opts.dir ?? DEFAULT_MIGRATIONS_DIR;
  const log = opts.log ?? (() => {});
  await checkLockfileProvider(dir);
  const local = await readLocalMigrations(dir);

  const conn = await connect(target);
  try {
    const database = quoteIdentifier(target.database);
    await conn.query(
      `CREATE DATABASE IF NOT EXISTS ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    await conn.query(`USE ${database}`);
    await acquireLock(conn, opts.lockTimeoutSeconds ?? DEFAULT_LOCK_TIMEOUT_SECONDS);

    const history =
      (await readHistory(conn, target.database)) ?? (await createMigrationsTable(conn, target.database));
    const report = compareHistory(local, history);
    refuseBrokenHistory(report);

    const applied: string[] = [];
    for (const migration of local.filter((m) => report.pending.includes(m.name))) {
      const startedAt = Date.now();
      await applyMigration(conn, migration);
      applied.push(migration.name);
      log(`Applied migration ${migration.name} (${Date.now() - startedAt} ms)`);
    }
    return { applied, pending: report.pending };
  } finally {
    await close(conn); // also releases the lock
  }
}

/** Reads the migration history without changing anything, not even creating the database. */
export async function migrationStatus(opts: { url: string; dir?: string }): Promise<MigrationStatus> {
  const target = parseDatabaseUrl(opts.url);
  const local = await readLocalMigrations(opts.dir ?? DEFAULT_MIGRATIONS_DIR);
  const conn = await connect(target);
  try {
    const report = compareHistory(local, (await readHistory(conn, target.database)) ?? []);
    return { ...report, failed: report.failed.map((r) => r.migration_name) };
  } finally {
    await close(conn);
  }
}

/**
 * Splits a script into statements at each `;` outside strings, quoted identifiers and comments.
 * Chunks holding only comments are dropped. (No DELIMITER support: we write no procedures.)
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let hasCode = false;
  let i = 0;
  while (i < script.length) {
    const char = script[i] as string;
    const next = script[i + 1];
    if ((char === '-' && next === '-' && /\s/.test(script[i + 2] ?? ' ')) || char === '#') {
      i = endOfLine(script, i);
    } else if (char === '/' && next === '*') {
      // /*! … */ is MySQL's executable comment: it is code.
      if (script[i + 2] === '!' || script.startsWith('M!', i + 2)) hasCode = true;
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? script.length : end + 2;
    } else if (char === "'" || char === '"' || char === '`') {
      hasCode = true;
      i = endOfQuoted(script, i);
    } else if (char === ';') {
      if (hasCode) statements.push(script.slice(start, i).trim());
      start = i + 1;
      hasCode = false;
      i += 1;
    } else {
      if (!/\s/.test(char)) hasCode = true;
      i += 1;
    }
  }
  if (hasCode) statements.push(script.slice(start).trim());
  return statements;
}

function endOfLine(script: string, from: number): number {
  const end = script.indexOf('\n', from);
  return end === -1 ? script.length : end + 1;
}

/** Index just past the closing quote; a doubled quote or (in strings) a backslash escapes. */
function endOfQuoted(script: string, open: number): number {
  const quote = script[open];
  let i = open + 1;
  while (i < script.length) {
    const char = script[i];
    if (char === '\\' && quote !== '`') {
      i += 2;
    } else if (char === quote) {
      if (script[i + 1] !== quote) return i + 1;
      i += 2;
    } else {
      i += 1;
    }
  }
  return script.length;
}

function parseDatabaseUrl(url: string): DatabaseTarget {
  // Messages never include the URL: it holds the password.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MigrationError('invalid_url', 'The database URL is not a valid URL');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new MigrationError(
      'invalid_url',
      `The database URL must start with mysql://, not ${parsed.protocol}//`,
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) {
    throw new MigrationError('invalid_url', 'The database URL must name one database: mysql://…/<database>');
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username || 'root'), // as src/core/db.ts reads the same URL
    password: decodeURIComponent(parsed.password),
    database,
  };
}

async function connect(target: DatabaseTarget): Promise<mariadb.Connection> {
  const { database: _database, ...server } = target; // the database may not exist yet
  // Timestamps stay strings: they are only shown in messages, in the UTC Prisma wrote them in.
  return mariadb.createConnection({ ...server, dateStrings: true });
}

async function close(conn: mariadb.Connection): Promise<void> {
  await conn.end().catch(() => conn.destroy());
}

function quoteIdentifier(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

async function checkLockfileProvider(dir: string): Promise<void> {
  const lockfile = await readFile(join(dir, 'migration_lock.toml'), 'utf8').catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return ''; // Prisma accepts a directory without one
      throw error;
    },
  );
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(lockfile)?.[1];
  if (provider !== undefined && provider !== 'mysql') {
    throw new MigrationError(
      'provider_mismatch',
      `The migrations in ${dir} were written for ${provider}, not mysql (migration_lock.toml)`,
    );
  }
}

async function readLocalMigrations(dir: string): Promise<LocalMigration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({ name, script: await readFile(join(dir, name, 'migration.sql')) })),
  );
}

/** The rows of `_prisma_migrations`, or undefined when the table does not exist. */
async function readHistory(
  conn: mariadb.Connection,
  database: string,
): Promise<MigrationRecord[] | undefined> {
  const tables = await conn.query<unknown[]>(
    `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_prisma_migrations'`,
    [database],
  );
  if (tables.length === 0) return undefined;
  return conn.query<MigrationRecord[]>(
    `SELECT id, checksum, migration_name, logs, started_at, finished_at, rolled_back_at
       FROM ${quoteIdentifier(database)}._prisma_migrations
      ORDER BY started_at, migration_name`,
  );
}

async function createMigrationsTable(conn: mariadb.Connection, database: string): Promise<MigrationRecord[]> {
  // Like Prisma: a database that already has tables but no history must be baselined by hand.
  const [row] = await conn.query<[{ tables: bigint }]>(
    `SELECT COUNT(*) AS tables FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
    [database],
  );
  if (Number(row.tables) > 0) {
    throw new MigrationError(
      'schema_not_empty',
      `The database ${database} has tables but no _prisma_migrations table. ` +
        'Baseline it first: https://pris.ly/d/migrate-baseline',
    );
  }
  await conn.query(CREATE_MIGRATIONS_TABLE);
  return [];
}

function compareHistory(local: LocalMigration[], history: MigrationRecord[]): HistoryReport {
  const current = history.filter((r) => r.rolled_back_at === null); // rolled back = as if never run
  const finished = current.filter((r) => r.finished_at !== null);
  const scripts = new Map(local.map((m) => [m.name, m.script]));
  const names = (records: MigrationRecord[]) => records.map((r) => r.migration_name);
  return {
    applied: names(finished),
    pending: local.filter((m) => !current.some((r) => r.migration_name === m.name)).map((m) => m.name),
    failed: current.filter((r) => r.finished_at === null),
    edited: names(
      finished.filter((r) => {
        const script = scripts.get(r.migration_name);
        return script !== undefined && !scriptMatchesChecksum(script, r.checksum);
      }),
    ),
    missing: names(finished.filter((r) => !scripts.has(r.migration_name))),
  };
}

function refuseBrokenHistory(report: HistoryReport): void {
  if (report.failed.length > 0) {
    const details = report.failed.map((r) => {
      const logs = r.logs?.trim() ? ` with the following logs:\n${r.logs.trim()}` : '';
      return `The \`${r.migration_name}\` migration started at ${r.started_at} failed${logs}`;
    });
    throw new MigrationError(
      'failed_migration',
      'Found failed migrations in the target database, new migrations will not be applied. ' +
        `Resolve them first: ${RESOLVE_DOCS}\n${details.join('\n')}`,
      report.failed.map((r) => r.migration_name),
    );
  }
  if (report.edited.length > 0) {
    throw new MigrationError(
      'edited_migration',
      report.edited.map((name) => `The migration \`${name}\` was modified after it was applied.`).join('\n'),
      report.edited,
    );
  }
  if (report.missing.length > 0) {
    throw new MigrationError(
      'missing_migration',
      'The following migrations are applied to the database but missing from the local ' +
        `migrations directory: ${report.missing.join(', ')}`,
      report.missing,
    );
  }
}

async function acquireLock(conn: mariadb.Connection, timeoutSeconds: number): Promise<void> {
  const [row] = await conn.query<[{ acquired: number | bigint | null }]>(
    'SELECT GET_LOCK(?, ?) AS acquired',
    [LOCK_NAME, timeoutSeconds],
  );
  if (Number(row.acquired) !== 1) {
    throw new MigrationError(
      'lock_timeout',
      `Waited ${timeoutSeconds} s for the migration lock: another process is applying migrations`,
    );
  }
}

async function applyMigration(conn: mariadb.Connection, migration: LocalMigration): Promise<void> {
  const id = randomUUID();
  await conn.query(
    `INSERT INTO _prisma_migrations (id, checksum, started_at, migration_name)
     VALUES (?, ?, UTC_TIMESTAMP(3), ?)`,
    [id, sha256Hex(migration.script), migration.name],
  );
  const statements = splitStatements(migration.script.toString('utf8'));
  for (const [index, statement] of statements.entries()) {
    try {
      await conn.query(statement);
    } catch (error) {
      const logs = describeFailure(migration.name, index, error);
      await conn.query('UPDATE _prisma_migrations SET logs = ? WHERE id = ?', [logs, id]);
      throw new MigrationError('failed_migration', logs, [migration.name], { cause: error });
    }
  }
  // Prisma counts the whole script as one step.
  await conn.query(
    `UPDATE _prisma_migrations
        SET applied_steps_count = applied_steps_count + 1, finished_at = UTC_TIMESTAMP(3)
      WHERE id = ?`,
    [id],
  );
}

/** The text Prisma records in `logs` for a failed script (error P3018). */
function describeFailure(name: string, statementIndex: number, error: unknown): string {
  const sqlError = error as Partial<mariadb.SqlError>;
  return [
    'A migration failed to apply. New migrations cannot be applied before the error is recovered from. ' +
      `Read more about how to resolve migration issues in a production database: ${RESOLVE_DOCS}`,
    `Migration name: ${name}`,
    `Database error code: ${sqlError.errno ?? 'none'}`,
    `Database error:\n${sqlError.sqlMessage ?? String(error)}`,
    `Please check the query number ${statementIndex + 1} from the migration file.`,
  ].join('\n\n');
}

function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Like Prisma, a checksum still matches after git changed the line endings. */
function scriptMatchesChecksum(script: Buffer, checksum: string): boolean {
  const text = script.toString('utf8');
  return [script, Buffer.from(text.replaceAll('\r\n', '\n')), Buffer.from(text.replaceAll('\n', '\r\n'))]
    .map(sha256Hex)
    .includes(checksum);
}
