/**
 * Amazon SNS HTTP(S) messages: their envelope, and their signature checked with node:crypto as AWS documents it.
 * - Message format: https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 * - Verifying the signatures: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 *   SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over a canonical string of the documented fields, each
 *   name and value on a line of their own, in byte order of the names; the key is the X.509 certificate at
 *   SigningCertURL, which is fetched only from an https URL whose host is AWS's (`SNS_CERT_HOSTS`), once per URL.
 */
import { type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { MalformedPayloadError, parseJsonBody, type RawRequest, readWire, ShortText } from '@comms/adapter-kit';
import { z } from 'zod';

const Arn = z
  .string()
  .max(1024)
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/, 'an SNS topic ARN');

const Url = z.string().min(1).max(2048);

/** The JSON body SNS posts; fields as the message format page lists them. */
export const SnsMessage = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'an SNS message id'),
  TopicArn: Arn,
  Subject: ShortText(1024).optional(),
  Message: z.string(),
  Timestamp: z.iso.datetime({ offset: true }),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().regex(/^[A-Za-z0-9+/=]{1,2048}$/, 'a base64 signature'),
  SigningCertURL: Url,
  Token: z.string().max(2048).optional(),
  SubscribeURL: Url.optional(),
  UnsubscribeURL: Url.optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

// Every step of the gateway reads the message (account look-up, signature, topic, dedupe key, parse): validated once.
const read = new WeakMap<RawRequest, SnsMessage>();

/** The SNS message a request carries. Throws MalformedPayloadError. */
export function readSnsMessage(req: RawRequest): SnsMessage {
  const known = read.get(req);
  if (known) return known;
  const msg = readWire(SnsMessage, parseJsonBody(req), 'not an Amazon SNS message');
  if (msg.Type === 'SubscriptionConfirmation' && (!msg.SubscribeURL || !msg.Token))
    throw new MalformedPayloadError('a SubscriptionConfirmation without SubscribeURL and Token', {
      issues: [{ field: 'SubscribeURL', message: 'the URL that confirms the subscription' }],
    });
  read.set(req, msg);
  return msg;
}

/** The string SNS signed: the documented fields, `Name\nvalue\n` each, in the documented order. */
export function canonicalString(msg: SnsMessage): string {
  const fields: (keyof SnsMessage)[] =
    msg.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let out = '';
  for (const name of fields) {
    const value = msg[name];
    // Subject is signed only when the notification has one.
    if (value === undefined) continue;
    out += `${name}\n${value}\n`;
  }
  return out;
}

/** AWS's hosts for SNS signing certificates: `sns.<region>.amazonaws.com` and `sns.<region>.amazonaws.com.cn`. */
export const AWS_SNS_CERT_HOSTS = ['sns.*.amazonaws.com', 'sns.*.amazonaws.com.cn'];

/** `*` stands for one DNS label. */
function hostPattern(pattern: string): RegExp {
  const escaped = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[a-z0-9-]+');
  return new RegExp(`^${escaped}$`);
}

export interface SnsTrust {
  /** Host patterns a certificate or SubscribeURL may be fetched from (default AWS_SNS_CERT_HOSTS). */
  hosts?: readonly string[];
  /**
   * Certificate authorities, PEM, trusted for those fetches besides Node's bundled ones. Tests and the embedded
   * simulator only: production trusts the public authorities and nothing else.
   */
  ca?: readonly string[];
  /** Give up on a fetch after this long (ms). */
  timeoutMs?: number;
}

export type SnsVerdict = { ok: true } | { ok: false; reason: string };

/** The SNS side of the SES adapter: the host rule, the https GETs it allows, and the signature check. */
export interface SnsClient {
  /** Whether `url` is an https URL on an allowed host. */
  allowed(url: string): boolean;
  /** GET of an allowed URL; the body as text. Throws on a refused URL, a non-2xx answer or a timeout. */
  get(url: string): Promise<string>;
  /** Checks a message's signature (the certificate fetched once per URL and kept). */
  verify(msg: SnsMessage): Promise<SnsVerdict>;
}

/** A fetched certificate as the check uses it: its key and validity read once, not per message. */
interface SigningCertificate {
  key: KeyObject;
  validFrom: number;
  validTo: number;
}

const MAX_FETCHED = 64 * 1024;
const MAX_CERTIFICATES = 100;

export function createSnsClient(trust: SnsTrust = {}): SnsClient {
  const patterns = (trust.hosts?.length ? trust.hosts : AWS_SNS_CERT_HOSTS).map(hostPattern);
  const certificates = new Map<string, Promise<SigningCertificate>>();
  const ca = trust.ca?.length ? [...rootCertificates, ...trust.ca] : undefined;

  function allowed(raw: string): boolean {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return false;
    }
    if (url.protocol !== 'https:' || url.username || url.password) return false;
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    return patterns.some((p) => p.test(host));
  }

  function get(url: string): Promise<string> {
    if (!allowed(url)) return Promise.reject(new Error('not an https URL on an allowed SNS host'));
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'GET', timeout: trust.timeoutMs ?? 5_000, ...(ca ? { ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_FETCHED) req.destroy(new Error('answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new Error(`answered ${status}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  function certificate(url: string): Promise<SigningCertificate> {
    let pending = certificates.get(url);
    if (!pending) {
      pending = get(url).then((pem) => {
        const cert = new X509Certificate(pem);
        return { key: cert.publicKey, validFrom: Date.parse(cert.validFrom), validTo: Date.parse(cert.validTo) };
      });
      // A failed fetch is not kept: the next message tries again.
      pending.catch(() => certificates.delete(url));
      if (certificates.size >= MAX_CERTIFICATES) certificates.clear();
      certificates.set(url, pending);
    }
    return pending;
  }

  return {
    allowed,
    get,
    async verify(msg) {
      if (!allowed(msg.SigningCertURL)) return { ok: false, reason: 'SigningCertURL is not on an allowed SNS host' };
      let cert: SigningCertificate;
      try {
        cert = await certificate(msg.SigningCertURL);
      } catch {
        return { ok: false, reason: 'the signing certificate could not be fetched' };
      }
      const now = Date.now();
      if (now < cert.validFrom || now > cert.validTo)
        return { ok: false, reason: 'the signing certificate is not valid now' };
      const algorithm = msg.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
      const ok = verifySignature(
        algorithm,
        Buffer.from(canonicalString(msg), 'utf8'),
        cert.key,
        Buffer.from(msg.Signature, 'base64'),
      );
      return ok ? { ok: true } : { ok: false, reason: 'the SNS signature does not match' };
    },
  };
}
