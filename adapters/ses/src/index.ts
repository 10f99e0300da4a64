/**
 * Amazon SES as an email transport: SNS notifications in (signature, topic, subscription handshake, inbound mail and
 * sending events), SESv2 SendEmail out. The route's options come from the gateway's config (which hosts may serve
 * SNS certificates, the S3 endpoint), so the adapter reads no environment.
 */
import type { InboundAdapter, RawRequest, VerifiedAccount, VerifyResult } from '@comms/adapter-kit';
import { parseSesNotification, regionOfArn, type S3Fetch } from './parse.js';
import { s3Fetcher } from './s3.js';
import { createSnsClient, readSnsMessage, type SnsTrust } from './sns.js';

export { parseSesNotification, type S3Fetch } from './parse.js';
export { s3Fetcher } from './s3.js';
export { sendSes } from './send.js';
export { SesSettings } from './settings.js';
export { SIMULATOR_CERTIFICATE } from './simulator.js';
export {
  AWS_SNS_CERT_HOSTS,
  canonicalString,
  createSnsClient,
  readSnsMessage,
  type SnsClient,
  SnsMessage,
  type SnsTrust,
} from './sns.js';

export interface SesInboundOptions {
  /** Where SNS certificates and SubscribeURLs may be fetched from, and whom to trust for it. */
  trust?: SnsTrust;
  /** S3's endpoint (`S3_API_URL`); AWS's by default. */
  s3Endpoint?: string;
  /** How S3 objects are read (tests may pass their own); s3Fetcher(s3Endpoint) by default. */
  s3?: S3Fetch;
}

/** POST /webhooks/{tenant}/ses: every SNS message type, from the topics the tenant's SES accounts list. */
export function createSesInbound(options: SesInboundOptions = {}) {
  const sns = createSnsClient(options.trust);
  const s3 = options.s3 ?? s3Fetcher(options.s3Endpoint);
  // One signature check per request, however many accounts are tried with it.
  const checked = new WeakMap<RawRequest, Promise<VerifyResult>>();
  const signature = (req: RawRequest) => {
    let verdict = checked.get(req);
    if (!verdict) {
      verdict = Promise.resolve()
        .then(() => sns.verify(readSnsMessage(req)))
        .catch(() => ({ ok: false as const, reason: 'not a readable SNS message' }));
      checked.set(req, verdict);
    }
    return verdict;
  };
  return {
    channels: ['email'],
    transport: 'ses',
    // SNS names a topic, not an account: the tenant's SES accounts are tried, and the topic decides.
    accountless: true,
    accountIdentifiers(req) {
      readSnsMessage(req); // a body that is not an SNS message is refused (400) before anything is looked up
      return [];
    },
    async verify(req, _credentials, settings) {
      const verdict = await signature(req);
      if (!verdict.ok) return verdict;
      const topics = settings?.sns_topic_arns;
      // Read once already by the signature check: it parses here.
      const topic = readSnsMessage(req).TopicArn;
      if (!Array.isArray(topics) || !topics.includes(topic))
        return { ok: false, reason: 'the SNS topic is not one this account lists', forbidden: true };
      return { ok: true };
    },
    subscription(req) {
      const msg = readSnsMessage(req);
      if (msg.Type === 'UnsubscribeConfirmation') return { kind: 'unsubscribed', topic: msg.TopicArn };
      if (msg.Type !== 'SubscriptionConfirmation') return null;
      const url = msg.SubscribeURL!;
      return {
        kind: 'confirm',
        topic: msg.TopicArn,
        async confirm() {
          // The same host rule as the certificate: SNS's own endpoint, never a URL the body could point anywhere.
          await sns.get(url);
        },
      };
    },
    dedupeKey: (req) => `sns:${readSnsMessage(req).MessageId}`,
    async parse(req, account?: VerifiedAccount) {
      const msg = readSnsMessage(req);
      if (msg.Type !== 'Notification') return [];
      const region = typeof account?.settings.region === 'string' ? account.settings.region : regionOfArn(msg.TopicArn);
      return parseSesNotification(msg, req.body, { fetch: s3, credentials: account?.credentials ?? {}, region });
    },
  } satisfies InboundAdapter;
}
