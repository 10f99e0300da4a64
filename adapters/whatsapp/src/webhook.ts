/**
 * WhatsApp Cloud API webhook bodies as Meta posts them: the status updates the sandbox transport plays back, and
 * the envelope the testing kit wraps its messages in.
 * Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples ("Message Status
 * Updates"); fields: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 */
import { randomBytes } from 'node:crypto';

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
export function unixSeconds(at: Date | number | undefined): string {
  if (at === undefined) return String(Math.floor(Date.now() / 1000));
  return String(at instanceof Date ? Math.floor(at.getTime() / 1000) : at);
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
        timestamp: unixSeconds(o.timestamp),
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
