/**
 * The whole service with Amazon SES faked at HTTP on loopback: an https "SNS" serving a signing certificate made at
 * test time (and answering SubscribeURLs), one fake answering SESv2 SendEmail and S3 GetObject as AWS does, and the
 * gateway told, for this test only, to fetch certificates from 127.0.0.1 and to trust that certificate
 * (SNS_CERT_HOSTS, SNS_CERT_CA). Call `useSesStack()` at the top of a test file.
 * - SESv2 SendEmail: https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
 *   (`POST /v2/email/outbound-emails`, 200 `{"MessageId": …}`; errors name their type in `x-amzn-ErrorType`)
 * - S3 GetObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html (`GET /{bucket}/{key}`, path style)
 */
import {
  newSesMessageId,
  type SnsEndpoint,
  type SnsSigning,
  signedSnsNotification,
  snsTestCertificate,
  startSnsEndpoint,
} from '@comms/adapter-ses/testing';
import { afterAll, beforeAll } from 'vitest';
import type { RecordedRequest, Responder } from './fake-provider.js';
import { api } from './harness.js';
import { db, fake, h, useProviderStack } from './provider-stack.js';
import { createAccount } from './stack.js';
import { schemaOf } from './wait.js';

export { db, fake, h, messageRow } from './provider-stack.js';

export const TLS = snsTestCertificate();
export const REGION = 'eu-west-1';
export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:acme-ses';
export const INBOUND = 'support@inbound.acme.example';

/** S3 objects the fake serves, by `/{bucket}/{key}`. */
export const s3Objects = new Map<string, string>();

export let sns: SnsEndpoint;
export let signing: SnsSigning;

/** How the fake answers SendEmail; by default a new MessageId. */
export let sendEmail: (req: RecordedRequest, n: number) => ReturnType<Responder> = () => ({
  status: 200,
  body: { MessageId: newSesMessageId() },
});
export const answerSendEmail = (r: typeof sendEmail) => {
  sendEmail = r;
};

/** Every SendEmail request the fake received. */
export const sendEmailCalls = () => fake.requests.filter((r) => r.path === '/v2/email/outbound-emails');

export function useSesStack(): void {
  useProviderStack({
    responder: (req, n) => {
      if (req.method === 'POST' && req.path === '/v2/email/outbound-emails') return sendEmail(req, n);
      // SendGrid beside it, for a tenant with both transports.
      if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `SG${Date.now()}` } };
      if (req.method === 'GET') {
        const object = s3Objects.get(decodeURIComponent(req.path.split('?')[0]!));
        if (object !== undefined)
          return { status: 200, body: object, headers: { 'content-type': 'application/octet-stream' } };
        return {
          status: 404,
          body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>',
          headers: { 'content-type': 'application/xml' },
        };
      }
      return { status: 404, body: {} };
    },
    env: {
      SNS_CERT_HOSTS: '127.0.0.1',
      SNS_CERT_CA: TLS.cert,
      AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT',
      AWS_SECRET_ACCESS_KEY: 'environment-secret',
    },
  });
  beforeAll(async () => {
    sns = await startSnsEndpoint(TLS);
    signing = { key: TLS.key, certUrl: sns.certUrl };
  });
  afterAll(async () => {
    await sns.close();
  });
}

/** An SES account through the API; `ses` settings are merged over the defaults. */
export function createSesAccount(tenant: string, o: { ses?: Record<string, unknown>; identifier?: string } = {}) {
  return createAccount(h, tenant, {
    provider: 'email',
    identifier: o.identifier ?? INBOUND,
    credentials: { access_key_id: 'AKIAEXAMPLE', secret_access_key: 'ses-secret-key' },
    transport: 'ses',
    ses: {
      region: REGION,
      from_email: 'bookings@acme.example',
      configuration_set: 'acme-events',
      sns_topic_arns: [TOPIC],
      ...o.ses,
    },
  });
}

/** POSTs a signed webhook to the tenant's SES route. */
export function postSns(tenant: string, webhook: { body: string; headers: Record<string, string> }) {
  return fetch(`${h.url}/webhooks/${tenant}/ses`, { method: 'POST', ...webhook });
}

/** A signed Notification of `message` on `topic` (the account's by default), posted. */
export function notify(tenant: string, message: unknown, o: { topic?: string; messageId?: string } = {}) {
  return postSns(tenant, signedSnsNotification(o.topic ?? TOPIC, message, signing, o));
}

/** How many rows a tenant table has. */
export async function count(tenant: string, table: string): Promise<number> {
  return Number((await db.query(`select count(*) from "${schemaOf(tenant)}".${table}`)).rows[0].count);
}

export const conversations = async (tenant: string) =>
  (await h.request('GET', api(tenant, '/conversations?status=new,open,replied,qualified,archived'))).body.data;
