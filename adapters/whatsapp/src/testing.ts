/**
 * WhatsApp Cloud API webhooks as Meta posts them, for the tests, benchmarks and the simulator. Not exported from
 * the package's main entry.
 * Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples ("Text Messages",
 * "Message Status Updates"); fields: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 * Signature (X-Hub-Signature-256): https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
import { randomBytes } from 'node:crypto';

export { hubSignature, signedMetaHeaders, signedMetaWebhook } from '@comms/adapter-meta-graph/testing';

/** The documentation's example business phone number id (Meta's `phone_number_id`). */
export const EXAMPLE_PHONE_NUMBER_ID = '106540352242922';

export interface WhatsAppContact {
  profile: { name: string };
  wa_id: string;
}

export interface WhatsAppMessage {
  from: string;
  id: string;
  timestamp: string;
  type: string;
  [field: string]: unknown;
}

export interface WhatsAppStatus {
  id: string;
  status: string;
  timestamp: string;
  recipient_id: string;
  [field: string]: unknown;
}

/** What one change's `value` carries besides `messaging_product` and `metadata`. */
export interface WhatsAppValue {
  contacts?: WhatsAppContact[];
  messages?: WhatsAppMessage[];
  statuses?: WhatsAppStatus[];
  [field: string]: unknown;
}

/** A new message id shaped like Meta's (`wamid.` and an opaque string). */
export function newWamid(): string {
  return `wamid.${randomBytes(16).toString('hex')}`;
}

/** Unix seconds as the string WhatsApp sends; now by default. */
function seconds(at: Date | number | undefined): string {
  if (at === undefined) return String(Math.floor(Date.now() / 1000));
  return String(at instanceof Date ? Math.floor(at.getTime() / 1000) : at);
}

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
      { from: o.from, id: o.id ?? newWamid(), timestamp: seconds(o.timestamp), type: 'text', text: { body: o.text } },
    ],
  };
}

export interface WhatsAppStatusOptions {
  /** The id of our outbound message (`wamid…`). */
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The customer's WhatsApp id. */
  recipient: string;
  timestamp?: Date | number;
  /** A failed status's `errors[]` (code, title, …). */
  errors?: Record<string, unknown>[];
}

/** The `statuses` of one status update of an outbound message. */
export function whatsappStatus(o: WhatsAppStatusOptions): { statuses: WhatsAppStatus[] } {
  return {
    statuses: [
      {
        id: o.id,
        status: o.status,
        timestamp: seconds(o.timestamp),
        recipient_id: o.recipient,
        ...(o.errors ? { errors: o.errors } : {}),
      },
    ],
  };
}

export interface WhatsAppWebhookOptions {
  /** The business number the webhook is for: how the gateway finds the channel account. */
  phoneNumberId?: string;
  displayPhoneNumber?: string;
  /** The WhatsApp Business Account id (`entry[].id`). */
  businessAccountId?: string;
}

/** A webhook of one entry with one `messages` change per value. */
export function whatsappWebhook(values: WhatsAppValue[], o: WhatsAppWebhookOptions = {}) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: o.businessAccountId ?? '102290129340398',
        changes: values.map((v) => ({
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: {
              display_phone_number: o.displayPhoneNumber ?? '15550783881',
              phone_number_id: o.phoneNumberId ?? EXAMPLE_PHONE_NUMBER_ID,
            },
            ...v,
          },
        })),
      },
    ],
  };
}
