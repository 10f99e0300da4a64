/** Small helpers the integration tests share. */
import type pg from 'pg';

/** The schema of a tenant slug (DESIGN §4). */
export const schemaOf = (slug: string) => `tenant_${slug.replaceAll('-', '_')}`;

/** Polls `fn` until `ok` holds or the time runs out, and returns the last value (the test asserts on it). */
export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One inbox message row, as stored. */
export async function messageRow(db: pg.Client, tenant: string, id: number) {
  return (await db.query(`select * from "${schemaOf(tenant)}".inbox_messages where id = $1`, [id])).rows[0];
}
