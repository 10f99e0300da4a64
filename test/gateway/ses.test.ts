// Amazon SES inbound mail through SNS at POST /webhooks/{tenant}/ses, against the real PostgreSQL and Redis. SNS is
// played by an https server on loopback with a certificate made at test time; messages follow the AWS pages named in
// adapters/ses/src/fixtures/README.md and are signed as SNS signs them.
import { randomUUID } from 'node:crypto';
import {
  mimeMessage,
  sesReceived,
  signedSnsNotification,
  signedSnsSubscription,
  signSnsMessage,
  snsRequest,
} from '@comms/adapter-ses/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import {
  conversations,
  count,
  createSesAccount,
  db,
  h,
  INBOUND,
  notify,
  postSns,
  s3Objects,
  signing,
  sns,
  TLS,
  TOPIC,
  useSesStack,
} from '../support/ses.js';
import { download } from '../support/media.js';
import { schemaOf } from '../support/wait.js';

useSesStack();

const mail = (messageId: string, text: string, answers?: string) => ({
  to: INBOUND,
  from: 'ana@example.com',
  name: 'Ana Lima',
  subject: 'Trip enquiry',
  text,
  messageId,
  ...(answers ? { inReplyTo: answers, references: [answers] } : {}),
});

describe('SES inbound mail', () => {
  it('makes an email conversation; a reply threads into it; a redelivery stores nothing twice', async () => {
    const tenant = await h.createTenant('ses-in');
    await createSesAccount(tenant);
    const first = signedSnsNotification(
      TOPIC,
      sesReceived(mail('first@mail.example.com', 'Rooms in Lisbon?')),
      signing,
    );
    const res = await postSns(tenant, first);
    expect(res.status).toBe(200);
    const [conv] = await conversations(tenant);
    expect(conv).toMatchObject({
      channel: 'email',
      contact_identifier: 'ana@example.com',
      contact_name: 'Ana Lima',
      last_message: 'Rooms in Lisbon?',
      message_count: 1,
    });
    const [msg] = (await h.request('GET', api(tenant, `/messages/conversation/${conv.id}`))).body.data;
    expect(msg).toMatchObject({ direction: 'in', external_id: 'first@mail.example.com', content: 'Rooms in Lisbon?' });
    expect(msg.metadata).toMatchObject({ subject: 'Trip enquiry', message_id: 'first@mail.example.com' });

    // SNS redelivers the same message (same MessageId): one receipt, one message.
    expect((await postSns(tenant, first)).status).toBe(200);
    expect(await count(tenant, 'webhook_events')).toBe(1);
    expect(await count(tenant, 'inbox_messages')).toBe(1);

    // The agent archives; the customer's answer (BASE64 content, In-Reply-To the first) reopens and joins it.
    await h.request('DELETE', api(tenant, `/conversations/${conv.id}`));
    const answer = sesReceived(mail('second@mail.example.com', 'Great, 2 adults.', 'first@mail.example.com'), {
      encoding: 'BASE64',
    });
    expect((await notify(tenant, answer)).status).toBe(200);
    const after = (await h.request('GET', api(tenant, `/conversations/${conv.id}`))).body;
    expect(after).toMatchObject({ status: 'open', message_count: 2, last_message: 'Great, 2 adults.' });
    expect(await conversations(tenant)).toHaveLength(1);
  });

  it("stores a mail's attachment from the mail itself: the agent opens the same bytes", async () => {
    const tenant = await h.createTenant('ses-file');
    await createSesAccount(tenant);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5_000, 3)]);
    const withFile = {
      ...mail('file@mail.example.com', 'My passport'),
      attachments: [{ filename: 'passport.pdf', type: 'application/pdf', content: pdf }],
    };
    expect((await notify(tenant, sesReceived(withFile))).status).toBe(200);
    const [conv] = await conversations(tenant);
    const [msg] = (await h.request('GET', api(tenant, `/messages/conversation/${conv.id}`))).body.data;
    expect(msg.attachments).toEqual([
      expect.objectContaining({
        status: 'stored',
        filename: 'passport.pdf',
        mime_type: 'application/pdf',
        size: pdf.length,
      }),
    ]);
    const file = await download(h, msg.attachments[0].url, h.serviceToken);
    expect(file.status).toBe(200);
    expect(file.bytes.equals(pdf)).toBe(true);
  });

  it('reads large mail from the S3 object the receipt names; S3 away is a 503 and nothing is stored', async () => {
    const tenant = await h.createTenant('ses-s3');
    await createSesAccount(tenant);
    const key = `inbound/${randomUUID()}`;
    const notification = sesReceived(mail('s3@mail.example.com', 'A long itinerary, attached.'), {
      s3: { bucket: 'acme-mail', key },
    });
    // Not there yet: S3 answers 404 NoSuchKey, the webhook is not stored, SNS will redeliver.
    const missing = await notify(tenant, notification);
    expect(missing.status).toBe(503);
    expect(await count(tenant, 'webhook_events')).toBe(0);
    s3Objects.set(`/acme-mail/${key}`, mimeMessage(mail('s3@mail.example.com', 'A long itinerary, attached.')));
    expect((await notify(tenant, notification)).status).toBe(200);
    const [conv] = await conversations(tenant);
    expect(conv).toMatchObject({ channel: 'email', last_message: 'A long itinerary, attached.' });
  });

  it('refuses a forged signature, a foreign certificate host, a wrong topic, an unknown tenant and a malformed body', async () => {
    const tenant = await h.createTenant('ses-no');
    await createSesAccount(tenant);
    const good = signSnsMessage(
      {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Message: JSON.stringify(sesReceived(mail('x@mail.example.com', 'hello'))),
        Timestamp: new Date().toISOString(),
      },
      signing,
    );
    // Forged: the signed Message changed after signing.
    const forged = snsRequest({ ...good, Message: good.Message.replace('hello', 'pay here') });
    const forgedRes = await postSns(tenant, forged);
    expect(forgedRes.status).toBe(401);
    expect(forgedRes.headers.get('content-type')).toContain('application/problem+json');
    // A certificate on a host SNS_CERT_HOSTS does not allow (localhost is not 127.0.0.1 here): never fetched.
    const before = sns.requests.length;
    const foreignHost = snsRequest(
      signSnsMessage(
        { ...good, MessageId: randomUUID() },
        { key: TLS.key, certUrl: signing.certUrl.replace('127.0.0.1', 'localhost') },
      ),
    );
    expect((await postSns(tenant, foreignHost)).status).toBe(401);
    const plainHttp = snsRequest(
      signSnsMessage(
        { ...good, MessageId: randomUUID() },
        { key: TLS.key, certUrl: signing.certUrl.replace('https:', 'http:') },
      ),
    );
    expect((await postSns(tenant, plainHttp)).status).toBe(401);
    expect(sns.requests.slice(before).filter((p) => p.includes('localhost'))).toHaveLength(0);
    // Correctly signed, but on a topic this tenant's account does not list (another tenant's): 403.
    const other = 'arn:aws:sns:eu-west-1:999999999999:other-agency';
    const wrongTopic = await notify(tenant, sesReceived(mail('y@mail.example.com', 'hi')), { topic: other });
    expect(wrongTopic.status).toBe(403);
    expect(((await wrongTopic.json()) as { detail: string }).detail).toMatch(/topic/);
    // Unknown tenant, malformed bodies.
    expect((await notify('no-such-agency', sesReceived(mail('z@mail.example.com', 'hi')))).status).toBe(404);
    expect((await postSns(tenant, { body: '{"Type":"Notification"', headers: {} })).status).toBe(400);
    expect((await postSns(tenant, { body: JSON.stringify({ Type: 'Notification' }), headers: {} })).status).toBe(400);
    expect(await count(tenant, 'webhook_events')).toBe(0);
    expect(await count(tenant, 'inbox_messages')).toBe(0);
  });

  it('confirms a subscription once by its SubscribeURL, never for a foreign topic; an unsubscription marks the account', async () => {
    const tenant = await h.createTenant('ses-sub');
    const accountId = await createSesAccount(tenant);
    const confirms = () => sns.requests.filter((p) => p.startsWith('/?Action=ConfirmSubscription'));
    const before = confirms().length;
    const foreign = signedSnsSubscription('arn:aws:sns:eu-west-1:999999999999:other-agency', signing);
    expect((await postSns(tenant, foreign)).status).toBe(403);
    expect(confirms()).toHaveLength(before);

    const subscription = signedSnsSubscription(TOPIC, signing);
    expect((await postSns(tenant, subscription)).status).toBe(200);
    expect((await postSns(tenant, subscription)).status).toBe(200);
    const called = confirms().slice(before);
    expect(called).toHaveLength(1);
    expect(called[0]).toContain(`TopicArn=${TOPIC}`);
    expect(await count(tenant, 'webhook_events')).toBe(1);

    // A SubscribeURL that fails: 503 (SNS redelivers), and the redelivery tries it again.
    const broken = snsRequest(
      signSnsMessage(
        {
          Type: 'SubscriptionConfirmation',
          MessageId: randomUUID(),
          Token: 'token',
          TopicArn: TOPIC,
          Message: 'confirm',
          SubscribeURL: `${sns.url}/gone`,
          Timestamp: new Date().toISOString(),
        },
        signing,
      ),
    );
    expect((await postSns(tenant, broken)).status).toBe(503);
    expect((await postSns(tenant, broken)).status).toBe(503);
    expect(sns.requests.filter((p) => p === '/gone')).toHaveLength(2);

    expect((await postSns(tenant, signedSnsSubscription(TOPIC, signing, 'UnsubscribeConfirmation'))).status).toBe(200);
    const account = (await h.request('GET', api(tenant, `/channel-accounts/${accountId}`))).body;
    expect(Object.keys(account.ses.unsubscribed_topics)).toEqual([TOPIC]);
    expect(confirms().slice(before)).toHaveLength(1);
  });

  it('answers 503 while the database is away, so SNS retries', async () => {
    const tenant = await h.createTenant('ses-db');
    await createSesAccount(tenant);
    // The tenant's receipts table gone for a moment stands for the database failing mid-webhook.
    await db.query(`alter table "${schemaOf(tenant)}".webhook_events rename to webhook_events_away`);
    try {
      const res = await notify(tenant, sesReceived(mail('db@mail.example.com', 'are you there?')));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
    } finally {
      await db.query(`alter table "${schemaOf(tenant)}".webhook_events_away rename to webhook_events`);
    }
    expect((await notify(tenant, sesReceived(mail('db@mail.example.com', 'are you there?')))).status).toBe(200);
    expect(await count(tenant, 'inbox_messages')).toBe(1);
  });
});
