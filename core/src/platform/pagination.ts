/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
import type { JsonRows } from '@comms/db';
import { AppError } from './errors.js';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor whose parts must match `shape` ('date' | 'int'); a bad one is a 400. */
export function decodeCursor(cursor: string, shape: ('date' | 'int')[]): (Date | number)[] {
  const invalid = () => new AppError('bad_request', 'cursor is not valid: pass next_cursor from a previous page');
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parts) || parts.length !== shape.length) throw invalid();
  return shape.map((kind, i) => {
    const v = parts[i];
    if (kind === 'int') {
      if (!Number.isSafeInteger(v)) throw invalid();
      return v as number;
    }
    if (typeof v !== 'string') throw invalid();
    const d = new Date(v);
    // Years 1–9999 only: PostgreSQL refuses year 0 and the `+010000-…` form toISOString gives past 9999.
    const year = d.getUTCFullYear();
    if (Number.isNaN(year) || year < 1 || year > 9999) throw invalid();
    return d;
  });
}

/** Given `limit + 1` rows, the page and the cursor after it. */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => unknown[], map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return { data: page.map(map), next_cursor: more && last ? encodeCursor(key(last)) : null };
}

/**
 * A page whose rows are already JSON text (see `selectJson`): the response body is assembled from them,
 * never parsed and serialized again. Same shape as `Page`.
 */
export class JsonPage {
  constructor(readonly body: string) {}
}

/** Given `limit + 1` rendered rows, the page and the cursor after it, made of the last row's `keyColumns`. */
export function toJsonPage(set: JsonRows, limit: number, keyColumns: string[]): JsonPage {
  const more = set.rows.length > limit;
  const page = more ? set.rows.slice(0, limit) : set.rows;
  const cursor = more ? JSON.stringify(encodeCursor(keyColumns.map((column) => set.cell(limit - 1, column)))) : 'null';
  return new JsonPage(`{"data":[${page.join(',')}],"next_cursor":${cursor}}`);
}
