/**
 * One database handle over either a real PostgreSQL (node-postgres pool) or the
 * embedded PGlite. Both speak the same SQL; callers never know which one they have.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, fillPlaceholders, getTableColumns, sql, type Table } from 'drizzle-orm';
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

/** What `selectJson` needs of a Drizzle select: its SQL text and parameters. */
export interface SqlSource {
  toSQL(): { sql: string; params: unknown[] };
}

/**
 * Statements whose SQL text is built once per shape. A list endpoint's SQL depends on which filters a
 * request uses, not on their values, yet Drizzle rebuilds the text on every call: on a list request that
 * cost more CPU than rendering its 50 rows. `build` writes the statement with `sql.placeholder(name)` for
 * every value and runs once per `key`; later calls only fill the placeholders from `values`. The key must
 * name everything that changes the text: the schema, which filters are present, how long each list is.
 * Bounded: past `max` shapes the least recently used is forgotten (and rebuilt when it comes back).
 */
export class ShapeCache {
  readonly #shapes = new Map<string, { sql: string; params: unknown[] }>();

  constructor(private readonly max = 2_000) {}

  statement(key: string, build: () => SqlSource, values: Record<string, unknown>): SqlSource {
    let shape = this.#shapes.get(key);
    if (shape) {
      // Most recently used last: the bound forgets the shapes nobody asked for longest.
      this.#shapes.delete(key);
    } else {
      shape = build().toSQL();
      if (this.#shapes.size >= this.max) this.#shapes.delete(this.#shapes.keys().next().value as string);
    }
    this.#shapes.set(key, shape);
    const { sql: text, params } = shape;
    const filled = fillPlaceholders(params, values);
    return { toSQL: () => ({ sql: text, params: filled }) };
  }
}

/**
 * Rows rendered as JSON object texts, keyed by column name (the API's snake_case field names), with
 * timestamps as `Date.toISOString()` writes them: the same JSON a TypeScript view of the row would give.
 */
export class JsonRows {
  constructor(
    /** One JSON object text per row. */
    readonly rows: string[],
    private readonly names: string[],
    private readonly raw: (string | null)[][],
    private readonly encoders: ((text: string) => string)[],
  ) {}

  /** One column of one row, as the JSON holds it (a timestamp as its ISO string). */
  cell(row: number, column: string): unknown {
    const index = this.names.indexOf(column);
    if (index < 0) throw new Error(`no column ${column} in this select`);
    const text = this.raw[row]![index]!;
    return text === null ? null : JSON.parse(this.encoders[index]!(text));
  }
}

const rawText = (value: string) => value;
/** PGlite parses a type unless told otherwise: every type our tables use, kept as PostgreSQL's text. */
const PGLITE_RAW = Object.fromEntries(
  [16, 20, 21, 23, 25, 26, 114, 700, 701, 1043, 1082, 1114, 1184, 1700, 2950, 3802].map((oid) => [oid, rawText]),
);
const PG_RAW = { getTypeParser: () => rawText };
const parseTimestamptz = pg.types.getTypeParser(1184) as (value: string) => Date;

/**
 * PostgreSQL's ISO output in UTC ("2026-12-02 03:32:15+00", with 1 to 6 fraction digits after the seconds
 * or none) rewritten by position, with no Date made and no regular expression run; anything else (another
 * session time zone, a five-digit year, infinity) goes through a Date.
 */
function timestampJson(text: string): string {
  const n = text.length;
  if (
    (n === 22 || (n >= 24 && n <= 29 && text.charCodeAt(19) === 46)) && // no fraction, or '.' and 1–6 digits
    text.charCodeAt(4) === 45 &&
    text.charCodeAt(10) === 32 &&
    text.endsWith('+00')
  ) {
    const ms = n === 22 ? '000' : `${text.slice(20, n - 3)}00`.slice(0, 3);
    return `"${text.slice(0, 10)}T${text.slice(11, 19)}.${ms}Z"`;
  }
  // pg's parser gives a Date, or the number ±Infinity for 'infinity'/'-infinity': those stay text.
  const date = parseTimestamptz(text) as Date | number;
  return typeof date === 'number' || Number.isNaN(date.getTime()) ? JSON.stringify(text) : `"${date.toISOString()}"`;
}

// What JSON.stringify would escape in a string (quote, backslash, control characters, lone surrogates).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const jsonString = (text: string) => (NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`);
const jsonBool = (text: string) => (text === 't' ? 'true' : 'false');

/** How a column's text becomes JSON, by PostgreSQL type oid. */
function encoderFor(oid: number): (text: string) => string {
  switch (oid) {
    case 16: // bool
      return jsonBool;
    case 20: // int8, int2, int4, oid
    case 21:
    case 23:
    case 26:
      return rawText;
    case 114: // json, jsonb: already JSON
    case 3802:
      return rawText;
    case 1184: // timestamptz
      return timestampJson;
    default: // text, varchar, uuid, and anything else: a JSON string
      return jsonString;
  }
}

/**
 * Runs a select and renders its rows as JSON texts straight from PostgreSQL's text output: no row objects,
 * no Dates, no second serialization. Lists of wide rows spend most of their time there otherwise, and
 * PostgreSQL's own JSON functions cost the database three times what sending the plain rows does.
 */
export async function selectJson(db: Db, query: SqlSource): Promise<JsonRows> {
  const { sql: text, params } = query.toSQL();
  const client = (db as unknown as { $client: pg.Pool | PGlite }).$client;
  let fields: { name: string; dataTypeID: number }[];
  let rows: (string | null)[][];
  if (client instanceof PGlite) {
    ({ fields, rows } = await client.query<(string | null)[]>(text, params, { rowMode: 'array', parsers: PGLITE_RAW }));
  } else {
    ({ fields, rows } = await client.query({ text, rowMode: 'array', types: PG_RAW }, params));
  }
  const names = fields.map((f) => f.name);
  // Each column's key with the separator before it, so a row is one concatenation, flattened once.
  const keys = names.map((name, i) => `${i ? ',' : '{'}${JSON.stringify(name)}:`);
  const encoders = fields.map((f) => encoderFor(f.dataTypeID));
  const width = names.length;
  const out: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let json = width ? '' : '{';
    for (let i = 0; i < width; i++) {
      const value = row[i];
      json += keys[i]! + (value === null || value === undefined ? 'null' : encoders[i]!(value));
    }
    out[r] = `${json}}`;
  }
  return new JsonRows(out, names, rows, encoders);
}
