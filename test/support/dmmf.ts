// Two views of the database schema as plain data — what schema.prisma describes (read through
// Prisma's DMMF) and what a database holds (read from information_schema) — and a readable diff.
// The drift test compares them; the names follow Prisma's MySQL conventions.
import { isDeepStrictEqual } from 'node:util';
import prismaInternals from '@prisma/internals';
import type mariadb from 'mariadb';

// A CommonJS package: Node cannot resolve its named exports from ESM.
const { getDMMF } = prismaInternals;

type Datamodel = Awaited<ReturnType<typeof getDMMF>>['datamodel'];
type Model = Datamodel['models'][number];
type Field = Model['fields'][number];
type IndexField = Datamodel['indexes'][number]['fields'][number];

export interface ColumnShape {
  /** information_schema COLUMN_TYPE, lower case, without integer display widths. */
  type: string;
  nullable: boolean;
  /** The database default as an expression or literal; null when there is none. */
  default: string | null;
  autoIncrement: boolean;
}

export interface IndexShape {
  kind: 'unique' | 'normal' | 'fulltext';
  /** Column names in index order, with `(prefix length)` and ` desc` when set. */
  columns: string[];
}

export interface ForeignKeyShape {
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableShape {
  collation: string;
  columns: Record<string, ColumnShape>;
  primaryKey: string[];
  indexes: Record<string, IndexShape>;
  foreignKeys: Record<string, ForeignKeyShape>;
}

export type SchemaShape = Record<string, TableShape>;

// What Prisma's MySQL connector writes in every CREATE TABLE.
const TABLE_COLLATION = 'utf8mb4_unicode_ci';
const MYSQL_IDENTIFIER_LIMIT = 64;

// Prisma's MySQL column type for a field without @db.* (psl, builtin_connectors/mysql).
const DEFAULT_NATIVE_TYPES: Record<string, string> = {
  String: 'varchar(191)',
  Int: 'int',
  BigInt: 'bigint',
  Float: 'double',
  Decimal: 'decimal(65,30)',
  Boolean: 'tinyint(1)',
  DateTime: 'datetime(3)',
  Json: 'json',
  Bytes: 'longblob',
};

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

// ---- expected: schema.prisma ----

export async function schemaFromPrisma(schemaText: string): Promise<SchemaShape> {
  const { datamodel } = await getDMMF({ datamodel: schemaText });
  return Object.fromEntries(
    datamodel.models.map((model) => [tableName(model), tableFromModel(datamodel, model)]),
  );
}

function tableFromModel(datamodel: Datamodel, model: Model): TableShape {
  const scalars = model.fields.filter((field) => field.kind !== 'object');
  const modelIndexes = datamodel.indexes.filter((index) => index.model === model.name);
  const columnsOf = (fields: readonly IndexField[]) =>
    fields.map((field) => indexColumn(columnName(model, field.name), field.length, field.sortOrder));

  const primaryKey = modelIndexes.find((index) => index.type === 'id');
  const indexes = modelIndexes.filter((index) => index.type !== 'id');
  const relations = model.fields.filter((field) => field.relationFromFields?.length);

  return {
    collation: TABLE_COLLATION,
    columns: Object.fromEntries(
      scalars.map((field) => [columnName(model, field.name), columnFromField(datamodel, field)]),
    ),
    primaryKey: primaryKey ? columnsOf(primaryKey.fields) : [],
    indexes: Object.fromEntries(
      indexes.map((index) => {
        const columns = index.fields.map((field) => columnName(model, field.name));
        const suffix = index.type === 'unique' ? 'key' : 'idx';
        const name = index.dbName ?? constraintName(tableName(model), columns, suffix);
        return [name, { kind: index.type as IndexShape['kind'], columns: columnsOf(index.fields) }];
      }),
    ),
    foreignKeys: Object.fromEntries(
      relations.map((field) => {
        const target = findModel(datamodel, field.type);
        const columns = (field.relationFromFields ?? []).map((name) => columnName(model, name));
        const foreignKey: ForeignKeyShape = {
          columns,
          referencedTable: tableName(target),
          referencedColumns: (field.relationToFields ?? []).map((name) => columnName(target, name)),
          // Prisma's defaults: a required relation restricts deletes, an optional one nulls out.
          onDelete: referentialAction(field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')),
          onUpdate: referentialAction(field.relationOnUpdate ?? 'Cascade'),
        };
        return [constraintName(tableName(model), columns, 'fkey'), foreignKey];
      }),
    ),
  };
}

function columnFromField(datamodel: Datamodel, field: Field): ColumnShape {
  return {
    type: columnType(datamodel, field),
    nullable: !field.isRequired,
    default: columnDefault(field),
    autoIncrement: isFunctionDefault(field.default) && field.default.name === 'autoincrement',
  };
}

function columnType(datamodel: Datamodel, field: Field): string {
  if (field.kind === 'enum') {
    const values = datamodel.enums.find((e) => e.name === field.type)?.values ?? [];
    return `enum(${values.map((v) => `'${(v.dbName ?? v.name).replaceAll("'", "''")}'`).join(',')})`;
  }
  const [nativeType, args = []] = field.nativeType ?? [];
  if (nativeType === undefined) {
    const type = DEFAULT_NATIVE_TYPES[field.type];
    if (type === undefined) throw new Error(`No MySQL type known for ${field.type} (${field.name})`);
    return type;
  }
  if (field.type === 'Boolean' && nativeType === 'TinyInt') return 'tinyint(1)';
  // @db.UnsignedInt → "int unsigned", @db.VarChar(120) → "varchar(120)", @db.Decimal(20, 4) → "decimal(20,4)"
  const unsigned = /^Unsigned(.+)$/.exec(nativeType);
  const base = (unsigned?.[1] ?? nativeType).toLowerCase();
  return `${base}${args.length ? `(${args.join(',')})` : ''}${unsigned ? ' unsigned' : ''}`;
}

function columnDefault(field: Field): string | null {
  const value = field.default;
  // Prisma never renders JSON defaults on MySQL.
  if (value === undefined || Array.isArray(value) || field.type === 'Json') return null;
  if (isFunctionDefault(value)) {
    if (value.name === 'now') {
      const precision = field.nativeType?.[1][0] ?? '3';
      return `current_timestamp(${precision})`;
    }
    if (value.name === 'dbgenerated') return normalizeDefault(String(value.args[0] ?? ''));
    return null; // uuid(), cuid(), autoincrement() …: filled by the client or AUTO_INCREMENT
  }
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function isFunctionDefault(value: Field['default']): value is { name: string; args: (string | number)[] } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tableName(model: Model): string {
  return model.dbName ?? model.name;
}

function columnName(model: Model, fieldName: string): string {
  const field = model.fields.find((f) => f.name === fieldName);
  if (!field) throw new Error(`${model.name} has no field ${fieldName}`);
  return field.dbName ?? field.name;
}

function findModel(datamodel: Datamodel, name: string): Model {
  const model = datamodel.models.find((m) => m.name === name);
  if (!model) throw new Error(`No model ${name}`);
  return model;
}

/** Prisma's default constraint name: Table_col1_col2_suffix, cut to MySQL's 64 characters. */
function constraintName(table: string, columns: string[], suffix: string): string {
  const base = `${table}_${columns.join('_')}`;
  return `${base.slice(0, MYSQL_IDENTIFIER_LIMIT - suffix.length - 1)}_${suffix}`;
}

function referentialAction(prismaAction: string): string {
  const action = REFERENTIAL_ACTIONS[prismaAction];
  if (action === undefined) throw new Error(`Unknown referential action ${prismaAction}`);
  return action;
}

function indexColumn(name: string, length?: number | null, sortOrder?: string | null): string {
  return `${name}${length ? `(${length})` : ''}${sortOrder === 'desc' ? ' desc' : ''}`;
}

// ---- actual: information_schema ----

interface ColumnRow {
  tableName: string;
  columnName: string;
  columnType: string;
  isNullable: string;
  columnDefault: string | null;
  extra: string;
}

interface IndexRow {
  tableName: string;
  indexName: string;
  nonUnique: number | bigint;
  indexType: string;
  columnName: string;
  subPart: number | bigint | null;
  collation: string | null;
}

interface ForeignKeyRow {
  tableName: string;
  constraintName: string;
  columnName: string;
  referencedTable: string;
  referencedColumn: string;
  deleteRule: string;
  updateRule: string;
}

export async function schemaFromDatabase(conn: mariadb.Connection, database: string): Promise<SchemaShape> {
  const tables = await conn.query<{ tableName: string; collation: string }[]>(
    `SELECT TABLE_NAME AS tableName, TABLE_COLLATION AS collation FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> '_prisma_migrations'`,
    [database],
  );
  const columns = await conn.query<ColumnRow[]>(
    `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS columnName, COLUMN_TYPE AS columnType,
            IS_NULLABLE AS isNullable, COLUMN_DEFAULT AS columnDefault, EXTRA AS extra
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY ORDINAL_POSITION`,
    [database],
  );
  const indexes = await conn.query<IndexRow[]>(
    `SELECT TABLE_NAME AS tableName, INDEX_NAME AS indexName, NON_UNIQUE AS nonUnique,
            INDEX_TYPE AS indexType, COLUMN_NAME AS columnName, SUB_PART AS subPart, COLLATION AS collation
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [database],
  );
  const foreignKeys = await conn.query<ForeignKeyRow[]>(
    `SELECT k.TABLE_NAME AS tableName, k.CONSTRAINT_NAME AS constraintName, k.COLUMN_NAME AS columnName,
            k.REFERENCED_TABLE_NAME AS referencedTable, k.REFERENCED_COLUMN_NAME AS referencedColumn,
            r.DELETE_RULE AS deleteRule, r.UPDATE_RULE AS updateRule
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME
        AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
      WHERE k.TABLE_SCHEMA = ? ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
    [database],
  );
  const jsonColumns = await mariadbJsonColumns(conn, database);

  return Object.fromEntries(
    tables.map(({ tableName, collation }) => {
      const table: TableShape = { collation, columns: {}, primaryKey: [], indexes: {}, foreignKeys: {} };
      for (const row of columns.filter((c) => c.tableName === tableName)) {
        const isJson = jsonColumns.has(`${tableName}.${row.columnName}`);
        table.columns[row.columnName] = {
          type: isJson ? 'json' : normalizeColumnType(row.columnType),
          nullable: row.isNullable === 'YES',
          default: row.columnDefault === null ? null : normalizeDefault(row.columnDefault),
          autoIncrement: row.extra.toLowerCase().includes('auto_increment'),
        };
      }
      for (const row of indexes.filter((i) => i.tableName === tableName)) {
        const column = indexColumn(
          row.columnName,
          row.subPart === null ? null : Number(row.subPart),
          row.collation === 'D' ? 'desc' : null,
        );
        if (row.indexName === 'PRIMARY') {
          table.primaryKey.push(column);
          continue;
        }
        const kind =
          row.indexType === 'FULLTEXT' ? 'fulltext' : Number(row.nonUnique) === 0 ? 'unique' : 'normal';
        (table.indexes[row.indexName] ??= { kind, columns: [] }).columns.push(column);
      }
      for (const row of foreignKeys.filter((f) => f.tableName === tableName)) {
        const foreignKey = (table.foreignKeys[row.constraintName] ??= {
          columns: [],
          referencedTable: row.referencedTable,
          referencedColumns: [],
          onDelete: row.deleteRule,
          onUpdate: row.updateRule,
        });
        foreignKey.columns.push(row.columnName);
        foreignKey.referencedColumns.push(row.referencedColumn);
      }
      return [tableName, table];
    }),
  );
}

/** MariaDB stores JSON as LONGTEXT with a json_valid() check: those columns, as "Table.column". */
async function mariadbJsonColumns(conn: mariadb.Connection, database: string): Promise<Set<string>> {
  const [server] = await conn.query<[{ version: string }]>('SELECT VERSION() AS version');
  if (!server.version.includes('MariaDB')) return new Set(); // MySQL has a real JSON type
  const checks = await conn.query<{ tableName: string; clause: string }[]>(
    `SELECT TABLE_NAME AS tableName, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
      WHERE CONSTRAINT_SCHEMA = ?`,
    [database],
  );
  return new Set(
    checks.flatMap(({ tableName, clause }) => {
      const column = /^json_valid\(`([^`]+)`\)$/.exec(clause)?.[1];
      return column ? [`${tableName}.${column}`] : [];
    }),
  );
}

/** Drops integer display widths (int(11) → int), which MySQL 8 no longer shows; tinyint(1) is boolean. */
function normalizeColumnType(columnType: string): string {
  return columnType
    .toLowerCase()
    .replace(/^(smallint|mediumint|int|bigint)\(\d+\)/, '$1')
    .replace(/^tinyint\((?!1\))\d+\)/, 'tinyint');
}

/** MariaDB quotes literal defaults and writes NULL for "no default"; MySQL does neither. */
function normalizeDefault(value: string): string | null {
  if (value === 'NULL') return null;
  const quoted = /^'(.*)'$/s.exec(value);
  return quoted ? (quoted[1] as string).replaceAll("''", "'") : value.toLowerCase();
}

// ---- comparison ----

/** One line per difference, by path (Table.columns.name.type); empty when both sides agree. */
export function diffSchemas(expected: SchemaShape, actual: SchemaShape): string[] {
  return diffValues(expected, actual, []);
}

function diffValues(expected: unknown, actual: unknown, path: string[]): string[] {
  if (isRecord(expected) && isRecord(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap((key) => {
      const at = [...path, key].join('.');
      if (!(key in actual)) return [`missing from the database: ${at} = ${JSON.stringify(expected[key])}`];
      if (!(key in expected)) return [`not in schema.prisma: ${at} = ${JSON.stringify(actual[key])}`];
      return diffValues(expected[key], actual[key], [...path, key]);
    });
  }
  if (isDeepStrictEqual(expected, actual)) return [];
  return [
    `${path.join('.')}: schema.prisma has ${JSON.stringify(expected)}, the database has ${JSON.stringify(actual)}`,
  ];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
