// The SES part of `npm run bench -- gateway`: signed SNS notifications of SES inbound mail (receipt rule → SNS action)
// through POST /webhooks/{tenant}/ses, saturated and paced at the WhatsApp run's rate, 10% redeliveries. SNS is played
// by an https server on loopback with a certificate made now; the gateway fetches it once (cached per URL).
import { randomUUID } from 'node:crypto';
import type { InboundMessage } from '@comms/adapter-kit';
import { createSesInbound } from '@comms/adapter-ses';
import {
  type SnsEndpoint,
  sesReceived,
  signedSnsNotification,
  snsTestCertificate,
  startSnsEndpoint,
} from '@comms/adapter-ses/testing';
import { ingestInputOf, spamRulesOf } from '@comms/core/inbox';

export const SES_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:bench-ses';
const INBOUND = 'bench@inbound.acme.example';

export interface SesWebhook {
  body: string;
  headers: Record<string, string>;
  /** The mail's Message-ID: the stored message's external id. */
  wamid: string;
  contact: string;
}

/** The certificate, the https endpoint serving it, and what the gateway needs to trust it (for the bench only). */
export async function startSesBench() {
  const tls = snsTestCertificate();
  const endpoint: SnsEndpoint = await startSnsEndpoint(tls);
  return {
    endpoint,
    gatewayEnv: { SNS_CERT_HOSTS: '127.0.0.1', SNS_CERT_CA: tls.cert },
    /** `count` signed notifications plus 10% redeliveries (the same SNS message again), shuffled in. */
    workload(count: number, offset: number, contacts: number): SesWebhook[] {
      const unique = Array.from({ length: count }, (_, i) => {
        const n = offset + i;
        const contact = `customer${n % contacts}@example.com`;
        const messageId = `ses.bench.${n}.${randomUUID()}@mail.example.com`;
        const mail = sesReceived({ to: INBOUND, from: contact, text: `message number ${n}`, messageId });
        return {
          ...signedSnsNotification(SES_TOPIC, mail, { key: tls.key, certUrl: endpoint.certUrl }),
          wamid: messageId,
          contact,
        };
      });
      const out = [...unique];
      for (let i = 0; i < count / 10; i++)
        out.splice(Math.floor(Math.random() * out.length), 0, unique[Math.floor(Math.random() * count)]!);
      return out;
    },
  };
}

/** The SES account the notifications are for, through the API. */
export async function createSesBenchAccount(apiUrl: string, slug: string, token: string): Promise<number> {
  const res = await fetch(`${apiUrl}/api/v1/tenants/${slug}/communications/channel-accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      provider: 'email',
      name: 'Bench SES',
      identifier: INBOUND,
      transport: 'ses',
      ses: { region: 'eu-west-1', sns_topic_arns: [SES_TOPIC] },
    }),
  });
  if (res.status !== 201) throw new Error(`SES account: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

/**
 * What the gateway passes `ingest_webhook()` for each notification (the adapter's parse and the ingest's input, made
 * here once and untimed), so the SES ceiling stores the same rows: the notification as the receipt, the mail's
 * fields in the message's metadata.
 */
export async function sesIngestInputs(items: SesWebhook[]): Promise<Map<SesWebhook, string>> {
  const adapter = createSesInbound();
  const rules = spamRulesOf({});
  const out = new Map<SesWebhook, string>();
  for (const w of items) {
    const req = { url: 'http://bench/ses', headers: w.headers, body: new TextEncoder().encode(w.body) };
    const events = await adapter.parse(req, { settings: { region: 'eu-west-1' }, credentials: {} } as never);
    const messages = events.filter((e): e is InboundMessage => e.kind === 'message');
    // Under ids of their own: the gateway's run stored these very mails, and a stored id is skipped, not written.
    const inputs = messages.map((m) => ({
      ...ingestInputOf(m, rules, []),
      external_id: `f-${m.external_id}`,
      sender: `f-${m.sender_identifier}`,
    }));
    out.set(w, JSON.stringify(inputs));
  }
  return out;
}
