// Replies through Amazon SES (SESv2 SendEmail against a fake on loopback) and the sending events SES publishes to SNS,
// against the real PostgreSQL and Redis. Event records follow
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
import { newSesMessageId, type SesEventType, sesEvent, sesReceived } from '@comms/adapter-ses/testing';
import {
  sendgridEvent,
  sendgridEventKeys,
  sendgridInboundForm,
  signedSendGridEvents,
} from '@comms/adapter-sendgrid/testing';
import { describe, expect, it } from 'vitest';
import { api } from '../support/harness.js';
import {
  answerSendEmail,
  conversations,
  createSesAccount,
  fake,
  h,
  INBOUND,
  messageRow,
  notify,
  sendEmailCalls,
  useSesStack,
} from '../support/ses.js';
import { createAccount } from '../support/stack.js';
import { uploadMedia } from '../support/media.js';
import { eventually } from '../support/wait.js';

useSesStack();

const defaultAnswer = () => ({ status: 200, body: { MessageId: newSesMessageId() } });

/** A tenant with an SES account and a customer's first mail; returns the tenant and the conversation id. */
async function customerWrote(prefix: string, messageId = `${prefix}@mail.example.com`) {
  const tenant = await h.createTenant(prefix);
  await createSesAccount(tenant);
  const res = await notify(
    tenant,
    sesReceived({ to: INBOUND, from: 'ana@example.com', subject: 'Trip enquiry', text: 'Rooms?', messageId }),
  );
  expect(res.status).toBe(200);
  const [conv] = await conversations(tenant);
  return { tenant, conversation: conv.id as number };
}

async function reply(tenant: string, conversation: number, content: string) {
  const res = await h.request('POST', api(tenant, '/messages'), { body: { conversation_id: conversation, content } });
  expect(res.status).toBe(202);
  return res.body.id as number;
}

const sentRow = (tenant: string, id: number) =>
  eventually(
    () => messageRow(tenant, id),
    (r) => r.status !== 'pending',
  );

const statusOf = async (tenant: string, id: number) => (await messageRow(tenant, id)).status;
const settle = () => new Promise((r) => setTimeout(r, 1_000));

describe('SES replies and sending events', () => {
  it('sends with From, Reply-To, threading headers and the configuration set; events move it forward only', async () => {
    answerSendEmail(defaultAnswer);
    const { tenant, conversation } = await customerWrote('ses-out', 'first@mail.example.com');
    const id = await reply(tenant, conversation, 'Yes, we have rooms.');
    const row = await sentRow(tenant, id);
    expect(row.status).toBe('sent');
    const call = sendEmailCalls().find((r) => r.json.Content.Simple.Body.Text.Data === 'Yes, we have rooms.')!;
    expect(call.json).toMatchObject({
      FromEmailAddress: 'bookings@acme.example',
      Destination: { ToAddresses: ['ana@example.com'] },
      ReplyToAddresses: [INBOUND],
      ConfigurationSetName: 'acme-events',
      Content: {
        Simple: {
          Subject: { Data: 'Re: Trip enquiry' },
          Headers: [
            { Name: 'In-Reply-To', Value: '<first@mail.example.com>' },
            { Name: 'References', Value: '<first@mail.example.com>' },
          ],
        },
      },
    });
    // Signed with the account's own key (SigV4), not the environment's.
    expect(String(call.headers.authorization)).toContain('Credential=AKIAEXAMPLE/');
    expect(String(call.headers.authorization)).toContain('/eu-west-1/ses/aws4_request');

    const event = (type: SesEventType) => notify(tenant, sesEvent(type, row.external_id!));
    expect((await event('Send')).status).toBe(200);
    expect((await event('Delivery')).status).toBe(200);
    await eventually(
      () => statusOf(tenant, id),
      (s) => s === 'delivered',
    );
    expect((await event('Open')).status).toBe(200);
    await eventually(
      () => statusOf(tenant, id),
      (s) => s === 'read',
    );
    // Late events never move it back.
    expect((await event('Delivery')).status).toBe(200);
    expect((await event('Bounce')).status).toBe(200);
    await settle();
    expect(await statusOf(tenant, id)).toBe('read');
  });

  it('signs with the account’s new key once it is rotated (the SES client is kept per key, not per account)', async () => {
    answerSendEmail(defaultAnswer);
    const { tenant, conversation } = await customerWrote('ses-rotate');
    const [account] = (await h.request('GET', api(tenant, '/channel-accounts'))).body.data;
    const signedWith = async (text: string) => {
      await sentRow(tenant, await reply(tenant, conversation, text));
      const call = sendEmailCalls().find((r) => r.json.Content.Simple.Body.Text.Data === text)!;
      return /Credential=(\w+)\//.exec(String(call.headers.authorization))?.[1];
    };
    expect(await signedWith('Before the rotation.')).toBe('AKIAEXAMPLE');
    const put = await h.request('PUT', api(tenant, `/channel-accounts/${account.id}`), {
      body: { credentials: { access_key_id: 'AKIAROTATED', secret_access_key: 'the-new-secret' } },
    });
    expect(put.status).toBe(200);
    expect(await signedWith('After the rotation.')).toBe('AKIAROTATED');
  });

  it('fails on a permanent bounce, a reject or a rendering failure; records complaints, transient bounces and delays', async () => {
    answerSendEmail(defaultAnswer);
    const { tenant, conversation } = await customerWrote('ses-ev');
    const ids: Record<string, number> = {};
    for (const name of ['bounce', 'reject', 'rendering', 'complaint', 'transient', 'click'])
      ids[name] = await reply(tenant, conversation, `reply for ${name}`);
    const sesId: Record<string, string> = {};
    for (const [name, id] of Object.entries(ids)) sesId[name] = (await sentRow(tenant, id)).external_id!;

    expect((await notify(tenant, sesEvent('Bounce', sesId.bounce!))).status).toBe(200);
    expect((await notify(tenant, sesEvent('Reject', sesId.reject!))).status).toBe(200);
    expect((await notify(tenant, sesEvent('Rendering Failure', sesId.rendering!))).status).toBe(200);
    expect((await notify(tenant, sesEvent('Complaint', sesId.complaint!))).status).toBe(200);
    expect((await notify(tenant, sesEvent('Bounce', sesId.transient!, { bounceType: 'Transient' }))).status).toBe(200);
    expect((await notify(tenant, sesEvent('DeliveryDelay', sesId.transient!))).status).toBe(200);
    expect((await notify(tenant, sesEvent('Click', sesId.click!))).status).toBe(200);

    const bounced = await eventually(
      () => messageRow(tenant, ids.bounce!),
      (r) => r.status === 'failed',
    );
    expect(bounced.error).toEqual({
      code: 'bounce_permanent',
      message: 'Permanent/General: smtp; 550 5.1.1 user unknown',
    });
    expect(
      (
        await eventually(
          () => messageRow(tenant, ids.reject!),
          (r) => r.status === 'failed',
        )
      ).error,
    ).toEqual({ code: 'reject', message: 'Bad content' });
    expect(
      (
        await eventually(
          () => messageRow(tenant, ids.rendering!),
          (r) => r.status === 'failed',
        )
      ).error.code,
    ).toBe('rendering_failure');

    const complained = await eventually(
      () => messageRow(tenant, ids.complaint!),
      (r) => Array.isArray(r.metadata.delivery_notes),
    );
    expect(complained.status).toBe('sent');
    expect(complained.metadata.delivery_notes).toMatchObject([{ kind: 'complaint', detail: 'abuse' }]);
    const conv = (await h.request('GET', api(tenant, `/conversations/${conversation}`))).body;
    expect(conv.platform_metadata.complaint).toMatchObject({ message_id: ids.complaint, detail: 'abuse' });

    const delayed = await eventually(
      () => messageRow(tenant, ids.transient!),
      (r) => (r.metadata.delivery_notes ?? []).length === 2,
    );
    expect(delayed.status).toBe('sent');
    expect(delayed.metadata.delivery_notes.map((n: { kind: string }) => n.kind).sort()).toEqual([
      'delivery_delay',
      'transient_bounce',
    ]);
    expect(await statusOf(tenant, ids.click!)).toBe('sent');
  });

  it('applies an event that arrives before the send stored the SES id', async () => {
    const early = newSesMessageId();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    // SES takes its time to answer; its Delivery event comes first.
    answerSendEmail(async () => {
      await released;
      return { status: 200, body: { MessageId: early } };
    });
    const { tenant, conversation } = await customerWrote('ses-early');
    const id = await reply(tenant, conversation, 'Booked.');
    await eventually(
      async () => sendEmailCalls().some((r) => r.json.Content.Simple.Body.Text.Data === 'Booked.'),
      Boolean,
    );
    expect((await notify(tenant, sesEvent('Delivery', early))).status).toBe(200);
    await settle();
    expect(await statusOf(tenant, id)).toBe('pending');
    release();
    const row = await eventually(
      () => messageRow(tenant, id),
      (r) => r.status === 'delivered',
    );
    expect(row.external_id).toBe(early);
  });

  it('retries a throttled send and fails a rejected one at once with SES error code', async () => {
    const { tenant, conversation } = await customerWrote('ses-err');
    answerSendEmail((req) =>
      req.json.Content.Simple.Body.Text.Data === 'throttled' &&
      sendEmailCalls().filter((r) => r.json.Content.Simple.Body.Text.Data === 'throttled').length === 1
        ? {
            status: 429,
            headers: { 'x-amzn-errortype': 'TooManyRequestsException' },
            body: { message: 'Too many requests' },
          }
        : req.json.Content.Simple.Body.Text.Data === 'rejected'
          ? {
              status: 400,
              headers: { 'x-amzn-errortype': 'MessageRejected' },
              body: { message: 'Email address is not verified.' },
            }
          : defaultAnswer(),
    );
    const throttled = await reply(tenant, conversation, 'throttled');
    const rejected = await reply(tenant, conversation, 'rejected');
    const failed = await eventually(
      () => messageRow(tenant, rejected),
      (r) => r.status === 'failed',
    );
    expect(failed.error).toEqual({ code: 'MessageRejected', message: 'Email address is not verified.' });
    const sent = await eventually(
      () => messageRow(tenant, throttled),
      (r) => r.status === 'sent',
    );
    expect(sent.external_id).toBeTruthy();
    const body = (text: string) => sendEmailCalls().filter((r) => r.json.Content.Simple.Body.Text.Data === text);
    expect(body('throttled')).toHaveLength(2);
    expect(body('rejected')).toHaveLength(1);
    answerSendEmail(defaultAnswer);
  });

  it('serves a SendGrid and an SES account in one tenant, each mail through its own transport', async () => {
    answerSendEmail(defaultAnswer);
    const { tenant, conversation: viaSes } = await customerWrote('ses-both');
    const sgKeys = sendgridEventKeys();
    await createAccount(h, tenant, {
      provider: 'email',
      identifier: 'sales@inbound.acme.example',
      credentials: {
        api_key: 'SG.key',
        from_email: 'sales@acme.example',
        inbound_token: 'sg-token',
        event_public_key: sgKeys.publicKey,
      },
    });
    const form = sendgridInboundForm({
      to: 'sales@inbound.acme.example',
      from: 'bruno@example.com',
      name: 'Bruno',
      text: 'Any cruises?',
    });
    const posted = await fetch(`${h.url}/webhooks/${tenant}/sendgrid/inbound?token=sg-token`, {
      method: 'POST',
      body: form,
    });
    expect(posted.status).toBe(200);
    // SNS cannot reach the SendGrid account, nor Inbound Parse the SES one.
    const list = await conversations(tenant);
    expect(list.map((c: { channel: string }) => c.channel)).toEqual(['email', 'email']);
    const viaSendGrid = list.find(
      (c: { contact_identifier: string }) => c.contact_identifier === 'bruno@example.com',
    ).id;

    const sgReply = await reply(tenant, viaSendGrid, 'Cruises: yes.');
    const sesReply = await reply(tenant, viaSes, 'Rooms: yes.');
    expect((await sentRow(tenant, sgReply)).status).toBe('sent');
    expect((await sentRow(tenant, sesReply)).status).toBe('sent');
    expect(fake.requests.some((r) => r.path === '/v3/mail/send' && r.json.content[0].value === 'Cruises: yes.')).toBe(
      true,
    );
    expect(sendEmailCalls().some((r) => r.json.Content.Simple.Body.Text.Data === 'Cruises: yes.')).toBe(false);
    expect(sendEmailCalls().some((r) => r.json.Content.Simple.Body.Text.Data === 'Rooms: yes.')).toBe(true);
    // Both transports' status webhooks name no account (the signature or the topic decides), right after each
    // other: each route finds its own transport's account, never the other's.
    const sgSent = await sentRow(tenant, sgReply);
    const sgEvents = signedSendGridEvents(
      [
        sendgridEvent({
          event: 'delivered',
          email: 'bruno@example.com',
          sgMessageId: `${sgSent.external_id}.filter0001.1.2.0`,
        }),
      ],
      sgKeys.privateKey,
    );
    expect((await fetch(`${h.url}/webhooks/${tenant}/sendgrid/events`, { method: 'POST', ...sgEvents })).status).toBe(
      200,
    );
    const sesSent = await sentRow(tenant, sesReply);
    expect((await notify(tenant, sesEvent('Delivery', sesSent.external_id))).status).toBe(200);
    for (const id of [sgReply, sesReply])
      await eventually(
        () => sentRow(tenant, id),
        (row) => row.status === 'delivered',
      );
    const accounts = (await h.request('GET', api(tenant, '/channel-accounts'))).body.data;
    expect(accounts.map((a: { transport: string }) => a.transport).sort()).toEqual(['sendgrid', 'ses']);
    expect(JSON.stringify(accounts)).not.toContain('ses-secret-key');
  });

  it('sends an uploaded file as a real attachment (SESv2 Simple content, the bytes base64 in the JSON)', async () => {
    answerSendEmail(defaultAnswer);
    const { tenant, conversation } = await customerWrote('ses-file');
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(9_000, 7)]);
    const up = await uploadMedia(h, tenant, pdf, 'application/pdf', 'voucher.pdf');
    expect(up.status).toBe(201);
    const res = await h.request('POST', api(tenant, '/messages'), {
      body: { conversation_id: conversation, content: 'Your voucher', media_id: up.body.id },
    });
    expect(res.status).toBe(202);
    expect((await sentRow(tenant, res.body.id)).status).toBe('sent');
    const call = sendEmailCalls().find((r) => r.json.Content.Simple.Body.Text.Data === 'Your voucher')!;
    expect(call.json.Content.Simple.Attachments).toEqual([
      {
        FileName: 'voucher.pdf',
        ContentType: 'application/pdf',
        ContentDisposition: 'ATTACHMENT',
        RawContent: pdf.toString('base64'),
      },
    ]);
  });
});
