// Fuzzing the webhook gateway over HTTP (issue 17): correctly signed webhooks of every provider (SES's SNS
// notifications signed with a certificate a loopback "SNS" serves), mutated as in
// adapters.test.ts, posted to a running service. Properties: never a 5xx; a 2xx only when the webhook was stored
// (a receipt more) or was a redelivery (nothing changed at all); a 4xx changes no conversation, message or
// accepted receipt; and the rows never disagree (the conversations' message counts add up to the messages).
import { type SnsEndpoint, snsTestCertificate, startSnsEndpoint } from '@comms/adapter-ses/testing';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestDb } from '../support/env.js';
import { createAccount, type Stack, startStack } from '../support/stack.js';
import { schemaOf } from '../support/wait.js';
import { fuzzOptions } from './options.js';
import {
  APP_SECRET,
  AUTH_TOKEN,
  keys,
  rawRequests,
  SES_INBOUND,
  SES_TOPIC,
  type Target,
  webhookTargets,
} from './webhooks.js';

let h: Stack;
let db: pg.Client;
let tenant: string;
let targets: Target[];
let sns: SnsEndpoint;
const TLS = snsTestCertificate();
/** Answers per route, printed at the end: a fuzzer that never reaches a 2xx tests only the refusals. */
const answers = new Map<string, Map<number, number>>();

beforeAll(async () => {
  // SNS certificates fetched from a loopback "SNS" for this test only (test/support/ses.ts does the same).
  sns = await startSnsEndpoint(TLS);
  h = await startStack({ env: { SNS_CERT_HOSTS: '127.0.0.1', SNS_CERT_CA: TLS.cert } });
  db = await connectTestDb();
  tenant = await h.createTenant('fzgw');
  const accounts = [
    {
      provider: 'whatsapp',
      identifier: '106540352242922',
      credentials: { app_secret: APP_SECRET, access_token: 'EAAG-fuzz' },
    },
    {
      provider: 'messenger',
      identifier: '1234567890',
      credentials: { app_secret: APP_SECRET, page_access_token: 'EAAG-fuzz' },
    },
    {
      provider: 'instagram',
      identifier: '17841400000000',
      credentials: { app_secret: APP_SECRET, page_access_token: 'EAAG-fuzz' },
    },
    {
      provider: 'sms',
      identifier: '+14155550100',
      credentials: { auth_token: AUTH_TOKEN, account_sid: `AC${'0'.repeat(32)}` },
    },
    {
      provider: 'email',
      identifier: 'support@inbound.acme.example',
      credentials: { inbound_token: 'fuzz-inbound-token', event_public_key: keys.publicKey, api_key: 'SG.fuzz' },
    },
  ] as const;
  for (const account of accounts)
    await createAccount(h, tenant, { ...account, credentials: { ...account.credentials } });
  await createAccount(h, tenant, {
    provider: 'email',
    identifier: SES_INBOUND,
    credentials: { access_key_id: 'AKIAFUZZ', secret_access_key: 'fuzz-secret-key' },
    transport: 'ses',
    ses: { region: 'eu-west-1', from_email: 'desk@acme.example', sns_topic_arns: [SES_TOPIC] },
  });
  targets = webhookTargets(h.runtime.config.PUBLIC_BASE_URL.replace(/\/$/, ''), tenant, {
    key: TLS.key,
    certUrl: sns.certUrl,
  });
});

afterAll(async () => {
  for (const [name, byStatus] of answers)
    process.stderr.write(
      `gateway fuzz, ${name}: ${[...byStatus]
        .sort()
        .map(([status, n]) => `${n}× ${status}`)
        .join(', ')}\n`,
    );
  await db.end();
  await h.close();
  await sns.close();
});

async function counts() {
  const s = `"${schemaOf(tenant)}"`;
  const { rows } = await db.query(
    `select (select count(*) from ${s}.webhook_events where error is null)::int as receipts,
            (select count(*) from ${s}.inbox_messages)::int as messages,
            (select count(*) from ${s}.inbox_conversations)::int as conversations,
            (select coalesce(sum(message_count), 0) from ${s}.inbox_conversations)::int as counted`,
  );
  return rows[0] as { receipts: number; messages: number; conversations: number; counted: number };
}

describe('the gateway under generated signed webhooks', () => {
  it.each([
    'WhatsApp',
    'Messenger and Instagram',
    'Twilio inbound',
    'Twilio status',
    'SendGrid Inbound Parse',
    'SendGrid events',
    'SES (SNS)',
  ])('%s', async (name) => {
    const target = targets.find((t) => t.name === name)!;
    await fc.assert(
      fc.asyncProperty(rawRequests(target), async (make) => {
        const raw = await make();
        const url = new URL(raw.url);
        const before = await counts();
        const res = await fetch(`${h.url}${url.pathname}${url.search}`, {
          method: 'POST',
          headers: raw.headers,
          body: raw.body,
        });
        const text = await res.text();
        const after = await counts();
        const what = `${res.status} ${text.slice(0, 300)}`;
        const byStatus = answers.get(name) ?? new Map<number, number>();
        answers.set(name, byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1));
        expect(res.status, what).toBeLessThan(500);
        if (res.ok) {
          const stored = after.receipts > before.receipts;
          const redelivery = JSON.stringify(after) === JSON.stringify(before);
          expect(stored || redelivery, `${what}: a 2xx for a webhook that was not stored`).toBe(true);
        } else {
          expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
          expect({ ...after, counted: 0 }, `${what}: a refused webhook changed rows`).toEqual({
            ...before,
            counted: 0,
          });
        }
        expect(after.counted, 'conversation message counts disagree with the messages').toBe(after.messages);
      }),
      fuzzOptions(2_000 + targets.findIndex((t) => t.name === name), Math.max(25, Number(process.env.FUZZ_RUNS ?? 0))),
    );
  });
});
