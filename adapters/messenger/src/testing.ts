/**
 * Messenger and Instagram webhooks as Meta posts them, for the tests and the simulator. Not exported from the
 * package's main entry. Both share the Graph webhook shape (`object` tells them apart):
 * - messages: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 * - echoes: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
 * - reads: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
 * - Instagram: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 * Signature (X-Hub-Signature-256): https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { randomBytes } from 'node:crypto';

export { hubSignature, signedMetaHeaders, signedMetaWebhook } from '@comms/adapter-meta-graph/testing';

/** One item of an entry's `messaging` array. */
export interface MessagingEvent {
  sender: { id: string };
  recipient: { id: string };
  timestamp: number;
  [field: string]: unknown;
}

/** A new message id shaped like Meta's (`m_` and an opaque string). */
export function newMid(): string {
  return `m_${randomBytes(12).toString('hex')}`;
}

export interface MessengerTextOptions {
  /** The page (or Instagram account) the customer writes to. */
  account: string;
  /** The customer's page-scoped (or Instagram-scoped) id. */
  from: string;
  text: string;
  /** The message id; a new one by default. */
  mid?: string;
  /** Milliseconds since the epoch; now by default. */
  timestamp?: number;
}

/** A customer's text message to the page. */
export function messengerText(o: MessengerTextOptions): MessagingEvent {
  return {
    sender: { id: o.from },
    recipient: { id: o.account },
    timestamp: o.timestamp ?? Date.now(),
    message: { mid: o.mid ?? newMid(), text: o.text },
  };
}

/** The echo Meta sends of a message the page itself sent (`is_echo`). */
export function messengerEcho(o: { account: string; to: string; text: string; mid?: string; timestamp?: number }) {
  return {
    sender: { id: o.account },
    recipient: { id: o.to },
    timestamp: o.timestamp ?? Date.now(),
    message: { is_echo: true, mid: o.mid ?? newMid(), text: o.text },
  } satisfies MessagingEvent;
}

/** A read receipt: the customer has read every message the page sent up to `watermark` (ms since the epoch). */
export function messengerRead(o: { account: string; from: string; watermark: number; timestamp?: number }) {
  return {
    sender: { id: o.from },
    recipient: { id: o.account },
    timestamp: o.timestamp ?? Date.now(),
    read: { watermark: o.watermark },
  } satisfies MessagingEvent;
}

export interface MessengerWebhookOptions {
  /** `page` for Messenger, `instagram` for Instagram. */
  object?: 'page' | 'instagram';
  /** The page or Instagram account id (`entry[].id`): how the gateway finds the channel account. */
  account: string;
  /** The entry's `time`, ms since the epoch; now by default. */
  time?: number;
  messaging: MessagingEvent[];
}

/** A webhook of one entry carrying the given messaging events. */
export function messengerWebhook(o: MessengerWebhookOptions) {
  return {
    object: o.object ?? 'page',
    entry: [{ id: o.account, time: o.time ?? Date.now(), messaging: o.messaging }],
  };
}
