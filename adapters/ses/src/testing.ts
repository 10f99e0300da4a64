/**
 * SNS messages carrying SES notifications as AWS posts them, signed, for the tests, the benchmark and the simulator.
 * Not exported from the package's main entry.
 * - SNS message and signature: https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html,
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 * - SES inbound notification: https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 * - SES event publishing record: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InboundEmailOptions, mimeMessage } from '@comms/adapter-email/testing';
import type { SignedWebhook } from '@comms/adapter-kit';
import { canonicalString, type SnsMessage } from './sns.js';

export { SIMULATOR_PRIVATE_KEY } from './simulator-key.js';
export { SIMULATOR_CERTIFICATE } from './simulator.js';

/** A self-signed RSA certificate for 127.0.0.1 and localhost, made now with openssl: it signs and it serves TLS. */
export function snsTestCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sns-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-subj',
        '/CN=sns.test.localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An https server on loopback playing SNS's side: the signing certificate, and the SubscribeURL's confirmation. */
export interface SnsEndpoint {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** Where the signing certificate is served. */
  certUrl: string;
  /** Every path asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startSnsEndpoint(tls: { cert: string; key: string }): Promise<SnsEndpoint> {
  const requests: string[] = [];
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    requests.push(req.url ?? '');
    if (req.url?.startsWith('/SimpleNotificationService-')) {
      res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' });
      res.end(tls.cert);
    } else if (req.url?.startsWith('/?Action=ConfirmSubscription')) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    certUrl: `${url}/SimpleNotificationService-${randomBytes(8).toString('hex')}.pem`,
    requests,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface SnsSigning {
  /** The private key (PEM) whose certificate is at `certUrl`. */
  key: string;
  certUrl: string;
  /** SignatureVersion: '1' (SHA1withRSA) or '2' (SHA256withRSA, the default). */
  version?: '1' | '2';
}

type Unsigned = Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>;

/** The message with SignatureVersion, SigningCertURL and its Signature over the canonical string. */
export function signSnsMessage(msg: Unsigned, signing: SnsSigning): SnsMessage {
  const version = signing.version ?? '2';
  const unsigned = { ...msg, SignatureVersion: version, SigningCertURL: signing.certUrl, Signature: '' } as SnsMessage;
  const signature = sign(
    version === '1' ? 'RSA-SHA1' : 'RSA-SHA256',
    Buffer.from(canonicalString(unsigned)),
    signing.key,
  );
  return { ...unsigned, Signature: signature.toString('base64') };
}

/** The POST SNS makes with a message: JSON in a text/plain body, and its x-amz-sns-* headers. */
export function snsRequest(msg: SnsMessage): SignedWebhook {
  return {
    body: JSON.stringify(msg),
    headers: {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': msg.Type,
      'x-amz-sns-message-id': msg.MessageId,
      'x-amz-sns-topic-arn': msg.TopicArn,
    },
  };
}

/** A signed SNS Notification carrying `message` (an SES notification, serialized as SNS does: a JSON string). */
export function signedSnsNotification(
  topicArn: string,
  message: unknown,
  signing: SnsSigning,
  o: { messageId?: string; subject?: string } = {},
): SignedWebhook {
  return snsRequest(
    signSnsMessage(
      {
        Type: 'Notification',
        MessageId: o.messageId ?? randomUUID(),
        TopicArn: topicArn,
        ...(o.subject ? { Subject: o.subject } : {}),
        Message: typeof message === 'string' ? message : JSON.stringify(message),
        Timestamp: new Date().toISOString(),
        UnsubscribeURL: `${new URL(signing.certUrl).origin}/?Action=Unsubscribe&SubscriptionArn=${topicArn}:sub`,
      },
      signing,
    ),
  );
}

/** A signed SubscriptionConfirmation for `topicArn`; its SubscribeURL is on the same host as the certificate. */
export function signedSnsSubscription(
  topicArn: string,
  signing: SnsSigning,
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation' = 'SubscriptionConfirmation',
): SignedWebhook {
  const token = randomBytes(32).toString('hex');
  return snsRequest(
    signSnsMessage(
      {
        Type: type,
        MessageId: randomUUID(),
        Token: token,
        TopicArn: topicArn,
        Message: `You have chosen to subscribe to the topic ${topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: `${new URL(signing.certUrl).origin}/?Action=ConfirmSubscription&TopicArn=${topicArn}&Token=${token}`,
        Timestamp: new Date().toISOString(),
      },
      signing,
    ),
  );
}

export { type InboundEmailOptions, mimeMessage } from '@comms/adapter-email/testing';

const sesMail = (o: { messageId: string; source: string; destination: string[] }) => ({
  timestamp: new Date().toISOString(),
  source: o.source,
  messageId: o.messageId,
  destination: o.destination,
  headersTruncated: false,
  headers: [],
  commonHeaders: {},
});

/**
 * The SES notification of a receipt rule's SNS action (`content` carries the MIME message, UTF8 or BASE64), or of an
 * S3 action (`s3` says where the message is; no content).
 */
export function sesReceived(
  mail: InboundEmailOptions,
  o: { encoding?: 'UTF8' | 'BASE64'; topicArn?: string; s3?: { bucket: string; key: string } } = {},
): Record<string, unknown> {
  const mime = mimeMessage(mail);
  const verdict = { status: 'PASS' };
  return {
    notificationType: 'Received',
    mail: sesMail({ messageId: randomBytes(16).toString('hex'), source: mail.from, destination: [mail.to] }),
    receipt: {
      timestamp: new Date().toISOString(),
      processingTimeMillis: 420,
      recipients: [mail.to],
      spamVerdict: verdict,
      virusVerdict: verdict,
      spfVerdict: verdict,
      dkimVerdict: verdict,
      dmarcVerdict: verdict,
      action: o.s3
        ? { type: 'S3', topicArn: o.topicArn, bucketName: o.s3.bucket, objectKeyPrefix: '', objectKey: o.s3.key }
        : { type: 'SNS', topicArn: o.topicArn, encoding: o.encoding ?? 'UTF8' },
    },
    ...(o.s3 ? {} : { content: o.encoding === 'BASE64' ? Buffer.from(mime).toString('base64') : mime }),
  };
}

export type SesEventType =
  | 'Send'
  | 'Delivery'
  | 'Open'
  | 'Bounce'
  | 'Complaint'
  | 'Reject'
  | 'Rendering Failure'
  | 'DeliveryDelay'
  | 'Click';

/** One event publishing record for the message SES accepted as `messageId`. */
export function sesEvent(
  eventType: SesEventType,
  messageId: string,
  o: { to?: string; from?: string; bounceType?: 'Permanent' | 'Transient' } = {},
): Record<string, unknown> {
  const to = o.to ?? 'ana@example.com';
  const at = new Date().toISOString();
  const details: Record<SesEventType, Record<string, unknown>> = {
    Send: { send: {} },
    Delivery: {
      delivery: {
        timestamp: at,
        processingTimeMillis: 1200,
        recipients: [to],
        smtpResponse: '250 2.0.0 OK',
        reportingMTA: 'a1-2.smtp-out.amazonses.com',
      },
    },
    Open: { open: { ipAddress: '192.0.2.1', timestamp: at, userAgent: 'Mozilla/5.0' } },
    Bounce: {
      bounce: {
        bounceType: o.bounceType ?? 'Permanent',
        bounceSubType: o.bounceType === 'Transient' ? 'MailboxFull' : 'General',
        bouncedRecipients: [
          { emailAddress: to, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
        ],
        timestamp: at,
        feedbackId: randomUUID(),
        reportingMTA: 'dsn; a1-2.smtp-out.amazonses.com',
      },
    },
    Complaint: {
      complaint: {
        complainedRecipients: [{ emailAddress: to }],
        timestamp: at,
        feedbackId: randomUUID(),
        userAgent: 'ExampleCorp Feedback Loop (V0.01)',
        complaintFeedbackType: 'abuse',
        arrivalDate: at,
      },
    },
    Reject: { reject: { reason: 'Bad content' } },
    'Rendering Failure': {
      failure: { errorMessage: 'Attribute name is missing from the template', templateName: 'MyTemplate' },
    },
    DeliveryDelay: {
      deliveryDelay: {
        timestamp: at,
        delayType: 'MailboxFull',
        expirationTime: at,
        delayedRecipients: [{ emailAddress: to, status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 mailbox full' }],
      },
    },
    Click: { click: { ipAddress: '192.0.2.1', timestamp: at, link: 'https://example.com' } },
  };
  return {
    eventType,
    mail: {
      ...sesMail({ messageId, source: o.from ?? 'bookings@acme.example', destination: [to] }),
      sendingAccountId: '123456789012',
      tags: { 'ses:configuration-set': ['comms'] },
    },
    ...details[eventType],
  };
}

/** A new id shaped like the MessageId SendEmail answers with. */
export function newSesMessageId(): string {
  return `0100018c${randomBytes(12).toString('hex')}-${randomUUID()}-000000`;
}
