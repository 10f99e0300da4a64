/**
 * Rows as JSON: selects rendered as JSON texts straight from PostgreSQL's text output, and `to_jsonb` rows
 * turned back into what Drizzle would have returned.
 */
import type { PGlite } from '@electric-sql/pglite';
import { getTableColumns, type Table } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from './connection.js';
import type { SqlSource } from './prepared.js';

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
  if (client instanceof pg.Pool) {
    ({ fields, rows } = await client.query({ text, rowMode: 'array', types: PG_RAW }, params));
  } else {
    ({ fields, rows } = await client.query<(string | null)[]>(text, params, { rowMode: 'array', parsers: PGLITE_RAW }));
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
