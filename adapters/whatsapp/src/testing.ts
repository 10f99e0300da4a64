/**
 * WhatsApp Cloud API webhooks as Meta posts them, for the tests, benchmarks and the simulator. Not exported from
 * the package's main entry.
 * Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples ("Text Messages",
 * "Message Status Updates"); fields: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 * Signature (X-Hub-Signature-256): https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { newWamid, unixSeconds, type WhatsAppContact, type WhatsAppMessage } from './webhook.js';

export { hubSignature, signedMetaHeaders, signedMetaWebhook } from '@comms/adapter-meta-graph/testing';
// The envelope and the status updates are production code (the sandbox transport plays statuses back).
export {
  EXAMPLE_PHONE_NUMBER_ID,
  newWamid,
  type WhatsAppContact,
  type WhatsAppMessage,
  type WhatsAppStatus,
  type WhatsAppStatusOptions,
  type WhatsAppValue,
  type WhatsAppWebhookOptions,
  whatsappStatus,
  whatsappWebhook,
} from './webhook.js';

export interface WhatsAppTextOptions {
  /** The customer's WhatsApp id (`wa_id`, the number without `+`). */
  from: string;
  text: string;
  /** The message id (`wamid…`); a new one by default. */
  id?: string;
  /** The customer's profile name. */
  name?: string;
  /** When the customer sent it (a Date, or Unix seconds); now by default. */
  timestamp?: Date | number;
}

/** The `contacts` and `messages` of one inbound text message. */
export function whatsappText(o: WhatsAppTextOptions): { contacts: WhatsAppContact[]; messages: WhatsAppMessage[] } {
  return {
    contacts: [{ profile: { name: o.name ?? 'Ana Lima' }, wa_id: o.from }],
    messages: [
      {
        from: o.from,
        id: o.id ?? newWamid(),
        timestamp: unixSeconds(o.timestamp),
        type: 'text',
        text: { body: o.text },
      },
    ],
  };
}
