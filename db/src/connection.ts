/**
 * One database handle over either a real PostgreSQL (node-postgres pool) or the
 * embedded PGlite. Both speak the same SQL; callers never know which one they have.
 */
import { mkdirSync } from 'node:fs';
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { PreparingClient } from './prepared.js';

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
  /**
   * Fail a query whose answer has not come back within this long (ms; 0: never), and close its connection.
   * Without it, a connection whose packets stop (a stalled network, a failover behind a virtual address) holds
   * its pool slot until TCP gives up, many minutes later (`npm run chaos -- proxy-postgres`).
   */
  queryTimeoutMs?: number;
}

// node-postgres returns int8 and numeric as strings; counts (int8) are small here.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** The handle over either driver's Drizzle database: `ping` is the same `select 1` on both. */
function handle(db: Db, kind: Database['kind'], close: () => Promise<void>): Database {
  return {
    db,
    kind,
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close,
  };
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
      ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
      keepAlive: true,
    });
    // An idle client losing its connection (database restart) must not crash the process.
    pool.on('error', () => {});
    return handle(drizzlePg(pool) as unknown as Db, 'postgres', () => pool.end());
  }
  const dataDir = options.dataDir ?? './.data/pglite';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: PGlite's module alone costs a process about 40 MB, which the apps that run against
  // PostgreSQL (every production process) never need.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  const client = await PGlite.create(dataDir, { postgresqlconf: PGLITE_CONF });
  return handle(drizzlePglite(client) as unknown as Db, 'pglite', () => client.close());
}

/**
 * PostgreSQL's default 128 MB of shared buffers is most of what the embedded database holds in memory (PGlite's
 * WebAssembly heap keeps them resident): 32 MB serve an evaluation or a small single-host install (its files are
 * read through Node, so the OS caches them too), and the service's resident memory drops by about 100 MB.
 */
const PGLITE_CONF = ['shared_buffers=32MB'];

/** Rows of a raw query, whichever driver ran it (node-postgres and PGlite both return `.rows`). */
export async function rawRows<T = Record<string, unknown>>(
  executor: Executor,
  query: Parameters<Executor['execute']>[0],
): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
