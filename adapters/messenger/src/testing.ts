/**
 * Messenger and Instagram webhooks as Meta posts them, for the tests and the simulator. Not exported from the
 * package's main entry. Both share the Graph webhook shape (`object` tells them apart):
 * - messages: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 * - echoes: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-echoes
 * - deliveries and reads: see webhook.ts
 * - Instagram: https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 * Signature (X-Hub-Signature-256): https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { type MessagingEvent, newMid } from './webhook.js';

export { hubSignature, signedMetaHeaders, signedMetaWebhook } from '@comms/adapter-meta-graph/testing';
// The envelope and the receipts are production code (the sandbox transport plays receipts back).
export {
  type MessagingEvent,
  type MessengerWebhookOptions,
  messengerDelivery,
  messengerRead,
  messengerWebhook,
  newMid,
} from './webhook.js';

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
