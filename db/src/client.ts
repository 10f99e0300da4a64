/**
 * One database handle over either a real PostgreSQL (node-postgres pool) or the
 * embedded PGlite. Both speak the same SQL; callers never know which one they have.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, getTableColumns, getTableName, type SQL, sql, type Table } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';

export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;
export type Tx = PgTransaction<
  PgQueryResultHKT,
  Record<string, never>,
  ExtractTablesWithRelations<Record<string, never>>
>;
/** Either the database or a transaction on it: query functions take this. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Runs `select 1`; throws when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; without one, the embedded PGlite under `dataDir`. */
  url?: string | undefined;
  /** PGlite's data directory; `memory://` for a throwaway database. */
  dataDir?: string;
  poolSize?: number;
  /** Fail a query that waits this long for a connection (ms). */
  connectionTimeoutMs?: number;
}

// node-postgres returns int8 and numeric as strings; counts (int8) are small here.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/**
 * Parameterized statements become named prepared statements, one per distinct SQL text: each connection
 * parses and plans a statement once, then only binds and executes it (postgres.js and pgx do the same by
 * default). Planning a 30-column list query costs PostgreSQL as much as running it. Bounded: past
 * MAX_PREPARED distinct texts (a runaway of dynamic SQL) statements go unnamed again.
 */
const MAX_PREPARED = 5_000;
const statementNames = new Map<string, string>();

function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `s${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

class PreparingClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg's query() is a set of overloads this forwards unchanged.
  override query(config: any, values?: any, callback?: any): any {
    if (
      config !== null &&
      typeof config === 'object' &&
      typeof config.text === 'string' &&
      config.name === undefined &&
      Array.isArray(values) &&
      values.length > 0
    ) {
      const name = statementName(config.text);
      if (name) return super.query({ ...config, name }, values, callback);
    }
    return super.query(config, values, callback);
  }
}

/** Opens PostgreSQL when given a URL, otherwise the embedded PGlite. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({
      Client: PreparingClient,
      connectionString: options.url,
      max: options.poolSize ?? 20,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection (database restart) must not crash the process.
    pool.on('error', () => {});
    const db = drizzlePg(pool) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await db.execute(sql`select 1`);
      },
      close: () => pool.end(),
    };
  }
  const dataDir = options.dataDir ?? './.data/pglite';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.close(),
  };
}

/** Rows of a raw query, whichever driver ran it (node-postgres and PGlite both return `.rows`). */
export async function rawRows<T = Record<string, unknown>>(
  executor: Executor,
  query: Parameters<Executor['execute']>[0],
): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/**
 * A row keyed by column names, as PostgreSQL renders it with `to_jsonb` (ISO timestamps, jsonb already
 * parsed), turned into what Drizzle would have returned from a select on `table`.
 */
export function rowFromJson<T extends Table>(table: T, json: Record<string, unknown>): T['$inferSelect'] {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = json[column.name];
    out[key] =
      value === null || value === undefined
        ? null
        : column.columnType === 'PgJsonb' || column.columnType === 'PgJson'
          ? value
          : column.mapFromDriverValue(value);
  }
  return out as T['$inferSelect'];
}

const jsonObjects = new WeakMap<Table, SQL>();

/**
 * `json_build_object` of every column of `table`, keyed by column name (the API's snake_case field names),
 * timestamps in UTC with milliseconds as `Date.toISOString()` writes them. Lets PostgreSQL render rows as
 * JSON text that goes into a response as is, with no row objects made on the way.
 */
export function jsonObjectOf(table: Table): SQL {
  let built = jsonObjects.get(table);
  if (!built) {
    // One raw fragment, built once: rendering 60 column chunks on every query costs more than the query.
    // Column and table names come from our schema definitions, never from input.
    const name = getTableName(table);
    const parts = Object.values(getTableColumns(table)).map((column) => {
      const ref = `"${name}"."${column.name}"`;
      const value =
        column.columnType === 'PgTimestamp'
          ? `to_char(${ref} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
          : ref;
      return `'${column.name}', ${value}`;
    });
    built = sql.raw(`json_build_object(${parts.join(', ')})`);
    jsonObjects.set(table, built);
  }
  return built;
}
