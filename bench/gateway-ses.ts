// The SES part of `npm run bench -- gateway`: signed SNS notifications of SES inbound mail (receipt rule → SNS action)
// through POST /webhooks/{tenant}/ses, saturated and paced at the WhatsApp run's rate, 10% redeliveries. SNS is played
// by an https server on loopback with a certificate made now; the gateway fetches it once (cached per URL).
import { randomUUID } from 'node:crypto';
import {
  type SnsEndpoint,
  sesReceived,
  signedSnsNotification,
  snsTestCertificate,
  startSnsEndpoint,
} from '@comms/adapter-ses/testing';

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
export async function createSesBenchAccount(apiUrl: string, slug: string, token: string): Promise<void> {
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
}
