// The same-work ceiling of outbound sends: a bare BullMQ worker (queue `same-work`, prefix QUEUE_PREFIX) at the
// outbound-send queue's concurrency whose processor does what a send does with the bare tools: reads the message,
// its conversation and account with raw `pg` (prepared, pool of POOL_SIZE), makes the same Graph API call to the
// same fake provider with fetch, and stores the provider id with the same UPDATE. No validation, no logs, no
// metrics, no rate limit, no events, no batching.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

const schema = process.env.SCHEMA!;
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
const base = process.env.WHATSAPP_API_URL!;
const load = `select m.content, c.contact_identifier, a.identifier
                from "${schema}".inbox_messages m
                join "${schema}".inbox_conversations c on c.id = m.conversation_id
                join "${schema}".channel_accounts a on a.id = m.channel_account_id
               where m.id = $1 and m.status = 'pending' and m.external_id is null`;
const sent = `update "${schema}".inbox_messages
                 set external_id = $2, status = 'sent', status_updated_at = now(), provider_timestamp = now(), error = null
               where id = $1 and external_id is null`;

const worker = new Worker(
  'same-work',
  async (job) => {
    const id = Number(job.data.message_id);
    const { rows } = await pool.query({ name: 'load', text: load, values: [id] });
    const row = rows[0];
    if (!row) return;
    const res = await fetch(`${base}/${encodeURIComponent(row.identifier)}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.WHATSAPP_API_KEY}` },
      body: JSON.stringify({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: row.contact_identifier,
        type: 'text',
        text: { body: row.content, preview_url: false },
      }),
    });
    if (!res.ok) throw new Error(`provider answered ${res.status}`);
    const body = (await res.json()) as { messages: { id: string }[] };
    await pool.query({ name: 'sent', text: sent, values: [id, body.messages[0]!.id] });
  },
  {
    connection: new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null }),
    prefix: process.env.QUEUE_PREFIX,
    concurrency: Number(process.env.CONCURRENCY ?? 50),
  },
);
console.log('LISTENING same-work-worker');
process.once('SIGTERM', async () => {
  await worker.close();
  await pool.end();
  process.exit(0);
});
