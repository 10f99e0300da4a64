/**
 * Statements prepared once: node-postgres connections that name their parameterized statements, and the
 * SQL texts of Drizzle selects built once per shape.
 */
import { createHash } from 'node:crypto';
import { fillPlaceholders } from 'drizzle-orm';
import pg from 'pg';

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

/** A node-postgres client whose parameterized statements are named prepared statements. */
export class PreparingClient extends pg.Client {
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
      if (name) return this.dropIfTimedOut(super.query({ ...config, name }, values, this.watch(callback)));
    }
    return this.dropIfTimedOut(super.query(config, values, this.watch(callback)));
  }

  /**
   * node-postgres's `query_timeout` fails the query but keeps the connection, its answer still owed, and a
   * connection given back to the pool (as Drizzle gives back a transaction's) would then serve the next caller
   * nothing. A timed-out connection is closed instead: the pool drops it on release and opens a new one.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the result of pg's query() overloads (a promise, a query or undefined).
  private dropIfTimedOut(result: any): any {
    if (result && typeof result.then === 'function')
      return result.catch((err: unknown) => {
        this.closeIfTimeout(err);
        throw err;
      });
    return result;
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's callback shape.
  private watch(callback: any): any {
    if (typeof callback !== 'function') return callback;
    return (err: unknown, res: unknown) => {
      this.closeIfTimeout(err);
      callback(err, res);
    };
  }

  private closeIfTimeout(err: unknown): void {
    if (err instanceof Error && err.message === QUERY_READ_TIMEOUT)
      (this as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

/** The message of node-postgres's error for a query that outlived `query_timeout`. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

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
