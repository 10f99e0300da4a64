/**
 * Messenger and Instagram webhook bodies as Meta posts them: the delivery and read receipts the sandbox transport
 * plays back, and the envelope the testing kit wraps its messages in. Both share the Graph webhook shape
 * (`object` tells them apart):
 * - deliveries: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries
 * - reads: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
 * - Instagram: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 */
import { randomBytes } from 'node:crypto';

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

/** A delivery receipt: `mids` reached the customer, and so did everything the page sent up to `watermark` (ms). */
export function messengerDelivery(o: {
  account: string;
  from: string;
  mids: string[];
  watermark: number;
  timestamp?: number;
}) {
  return {
    sender: { id: o.from },
    recipient: { id: o.account },
    timestamp: o.timestamp ?? Date.now(),
    delivery: { mids: o.mids, watermark: o.watermark },
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
