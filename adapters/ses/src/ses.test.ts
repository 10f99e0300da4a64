// The SES adapter on fixtures written from AWS's documentation (fixtures/README.md), signed at test time with a
// certificate served over https on loopback.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { RawRequest } from '@comms/adapter-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSesInbound } from './index.js';
import { canonicalString, createSnsClient, type SnsMessage } from './sns.js';
import {
  signedSnsNotification,
  signedSnsSubscription,
  signSnsMessage,
  snsTestCertificate,
  type SnsEndpoint,
  startSnsEndpoint,
} from './testing.js';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:acme-ses';
const SETTINGS = { region: 'eu-west-1', sns_topic_arns: [TOPIC] };
const tls = snsTestCertificate();
let endpoint: SnsEndpoint;

beforeAll(async () => {
  endpoint = await startSnsEndpoint(tls);
});
afterAll(() => endpoint.close());

const request = (w: { body: string; headers: Record<string, string> }): RawRequest => ({
  url: 'https://comms.example.com/webhooks/acme/ses',
  headers: w.headers,
  body: new TextEncoder().encode(w.body),
});
const adapter = () => createSesInbound({ trust: { hosts: ['127.0.0.1'], ca: [tls.cert] } });

describe('SNS signatures', () => {
  it('builds the documented canonical strings', () => {
    const base = { MessageId: 'm', TopicArn: TOPIC, Message: 'hi', Timestamp: '2026-11-20T10:00:00.000Z' };
    const n = { ...base, Type: 'Notification', Subject: 'S' } as SnsMessage;
    expect(canonicalString(n)).toBe(
      `Message\nhi\nMessageId\nm\nSubject\nS\nTimestamp\n2026-11-20T10:00:00.000Z\nTopicArn\n${TOPIC}\nType\nNotification\n`,
    );
    expect(canonicalString({ ...n, Subject: undefined })).not.toContain('Subject');
    const s = { ...base, Type: 'SubscriptionConfirmation', SubscribeURL: 'https://x/', Token: 't' } as SnsMessage;
    expect(canonicalString(s)).toBe(
      `Message\nhi\nMessageId\nm\nSubscribeURL\nhttps://x/\nTimestamp\n2026-11-20T10:00:00.000Z\nToken\nt\nTopicArn\n${TOPIC}\nType\nSubscriptionConfirmation\n`,
    );
  });

  it('checks SignatureVersion 1 (SHA1withRSA) and 2 (SHA256withRSA), fetching the certificate once per URL', async () => {
    const sns = createSnsClient({ hosts: ['127.0.0.1'], ca: [tls.cert] });
    const msg = {
      Type: 'Notification' as const,
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Message: 'x',
      Timestamp: new Date().toISOString(),
    };
    const before = endpoint.requests.length;
    for (const version of ['1', '2'] as const) {
      const signed = signSnsMessage(msg, { key: tls.key, certUrl: endpoint.certUrl, version });
      expect(await sns.verify(signed)).toEqual({ ok: true });
      expect((await sns.verify({ ...signed, Message: 'y' })).ok).toBe(false);
      // The other algorithm's signature does not pass for this version.
      expect((await sns.verify({ ...signed, SignatureVersion: version === '1' ? '2' : '1' })).ok).toBe(false);
    }
    expect(endpoint.requests.length - before).toBe(1);
  });

  it('fetches certificates only over https from the allowed hosts, and trusts no other authority', async () => {
    const sns = createSnsClient({ hosts: ['127.0.0.1'], ca: [tls.cert] });
    expect(sns.allowed(endpoint.certUrl)).toBe(true);
    expect(sns.allowed(endpoint.certUrl.replace('https:', 'http:'))).toBe(false);
    expect(sns.allowed(endpoint.certUrl.replace('127.0.0.1', 'localhost'))).toBe(false);
    const aws = createSnsClient();
    expect(aws.allowed('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem')).toBe(true);
    expect(aws.allowed('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem')).toBe(true);
    expect(aws.allowed('https://sns.eu-west-1.amazonaws.com.evil.example/x.pem')).toBe(false);
    expect(aws.allowed('https://evil.example/sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    expect(aws.allowed('https://x.sns.eu-west-1.amazonaws.com/x.pem')).toBe(false);
    // Without the test CA our loopback certificate is not trusted, even on an allowed host.
    const untrusting = createSnsClient({ hosts: ['127.0.0.1'] });
    const signed = signSnsMessage(
      {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Message: 'x',
        Timestamp: new Date().toISOString(),
      },
      { key: tls.key, certUrl: `${endpoint.url}/SimpleNotificationService-other.pem` },
    );
    expect(await untrusting.verify(signed)).toEqual({
      ok: false,
      reason: 'the signing certificate could not be fetched',
    });
  });
});

describe('the SES route', () => {
  const signing = () => ({ key: tls.key, certUrl: endpoint.certUrl });

  it('verifies, then refuses a topic the account does not list (forbidden)', async () => {
    const a = adapter();
    const req = request(signedSnsNotification(TOPIC, fixture('received-sns.json'), signing()));
    expect(await a.verify(req, {}, SETTINGS)).toEqual({ ok: true });
    expect(await a.verify(req, {}, { ...SETTINGS, sns_topic_arns: ['arn:aws:sns:eu-west-1:1:other'] })).toMatchObject({
      ok: false,
      forbidden: true,
    });
    expect(a.dedupeKey(req)).toMatch(/^sns:/);
  });

  it('parses inbound mail into the normalized email, with threading and attachments', async () => {
    const req = request(signedSnsNotification(TOPIC, fixture('received-sns.json'), signing()));
    const [event] = await adapter().parse(req, { credentials: {}, settings: SETTINGS });
    expect(event).toMatchObject({
      kind: 'message',
      channel: 'email',
      account_identifier: 'support@inbound.acme.example',
      external_id: 'CALv2a@mail.example.com',
      sender_identifier: 'ana@example.com',
      sender_name: 'Ana Lima',
      text: 'Two rooms in Lisbon, 3 nights?',
      media: [{ mime_type: 'application/pdf', filename: 'passport.pdf' }],
      email: { in_reply_to: 'earlier@acme.example', references: ['first@acme.example', 'earlier@acme.example'] },
    });
  });

  it('reads S3-stored mail through the fetcher with the account credentials and region', async () => {
    const seen: unknown[] = [];
    const mime = fixture('received-sns.json').content as string;
    const a = createSesInbound({
      trust: { hosts: ['127.0.0.1'], ca: [tls.cert] },
      s3: async (where, credentials) => {
        seen.push({ where, credentials });
        return Buffer.from(mime);
      },
    });
    const req = request(signedSnsNotification(TOPIC, fixture('received-s3.json'), signing()));
    const [event] = await a.parse(req, { credentials: { access_key_id: 'AK' }, settings: SETTINGS });
    expect(event).toMatchObject({ external_id: 'CALv2a@mail.example.com' });
    expect(seen).toEqual([
      {
        where: { bucket: 'acme-mail', key: 'inbound/k3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g2', region: 'eu-west-1' },
        credentials: { access_key_id: 'AK' },
      },
    ]);
  });

  it('maps every sending event to its status or note', async () => {
    const events = fixture('events.json') as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [type, record] of Object.entries(events)) {
      const parsed = await adapter().parse(request(signedSnsNotification(TOPIC, record, signing())));
      out[type] = parsed.map((e) => (e.kind === 'status' ? [e.status, e.error?.code ?? e.note?.kind ?? null] : e.kind));
    }
    expect(out).toEqual({
      Send: [['sent', null]],
      Delivery: [['delivered', null]],
      Open: [['read', null]],
      Bounce: [['failed', 'bounce_permanent']],
      Complaint: [['sent', 'complaint']],
      Reject: [['failed', 'reject']],
      'Rendering Failure': [['failed', 'rendering_failure']],
      DeliveryDelay: [['sent', 'delivery_delay']],
      Click: [],
    });
  });

  it('reads subscription messages and refuses what is not SNS', async () => {
    const a = adapter();
    const sub = a.subscription(request(signedSnsSubscription(TOPIC, signing())));
    expect(sub).toMatchObject({ kind: 'confirm', topic: TOPIC });
    expect(a.subscription(request(signedSnsSubscription(TOPIC, signing(), 'UnsubscribeConfirmation')))).toEqual({
      kind: 'unsubscribed',
      topic: TOPIC,
    });
    expect(() => a.accountIdentifiers(request({ body: '{"Type":"Nope"}', headers: {} }))).toThrow(/SNS/);
    expect(() => a.accountIdentifiers(request({ body: 'not json', headers: {} }))).toThrow(/JSON/);
  });
});
