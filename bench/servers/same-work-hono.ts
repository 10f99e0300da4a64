// The same-work ceiling of the inbox lists: a bare Hono route on the same Node server adapter that runs the API's
// own SQL (the statements of listConversations and listMessages, given in STATEMENTS as JSON) through raw `pg`,
// as a named prepared statement over a pool of POOL_SIZE connections, and writes the page as JSON the way a bare
// route would: pg's own row objects, JSON.stringify, the next cursor. No auth, validation, logs or metrics.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import pg from 'pg';

interface Statement {
  text: string;
  params: unknown[];
  limit: number;
  /** The columns the next cursor is made of. */
  keys: string[];
}

const statements = JSON.parse(process.env.STATEMENTS ?? '{}') as Record<string, Statement>;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
// The API writes bigint columns as numbers and jsonb as it is stored; pg's defaults would differ in bytes.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);
const app = new Hono();
for (const [name, s] of Object.entries(statements)) {
  app.get(`/same/${name}`, async (c) => {
    const { rows } = await pool.query({ name, text: s.text, values: s.params });
    const more = rows.length > s.limit;
    const page = more ? rows.slice(0, s.limit) : rows;
    const last = page.at(-1);
    const next = more && last ? Buffer.from(JSON.stringify(s.keys.map((k) => last[k]))).toString('base64url') : null;
    return c.json({ data: page, next_cursor: next });
  });
}
serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
  console.log(`LISTENING http://127.0.0.1:${info.port}`),
);
process.once('SIGTERM', async () => {
  await pool.end();
  process.exit(0);
});
