/** The normalized events every provider's webhook becomes (DESIGN §8). */
import { z } from 'zod';

/** The channels a conversation can come from; also the channel account's `provider`. */
export const Channel = z.enum(['whatsapp', 'messenger', 'instagram', 'sms', 'twilio_whatsapp', 'email']);
export type Channel = z.infer<typeof Channel>;

export const MessageType = z.enum(['text', 'image', 'document', 'audio', 'video', 'location']);
export type MessageType = z.infer<typeof MessageType>;

export const DeliveryStatus = z.enum(['pending', 'sent', 'delivered', 'read', 'failed']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const Media = z.object({
  /** Provider media id (WhatsApp) or null when the provider gives a URL only. */
  id: z.string().nullable(),
  url: z.string().nullable(),
  mime_type: z.string().nullable(),
  filename: z.string().nullable(),
  size: z.number().int().nonnegative().nullable(),
  caption: z.string().nullable(),
});
export type Media = z.infer<typeof Media>;

export const Location = z.object({
  latitude: z.number(),
  longitude: z.number(),
  name: z.string().nullable(),
  address: z.string().nullable(),
});
export type Location = z.infer<typeof Location>;

export const EmailMeta = z.object({
  subject: z.string().nullable(),
  message_id: z.string().nullable(),
  in_reply_to: z.string().nullable(),
  references: z.array(z.string()),
  from: z.string().nullable(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  html: z.string().nullable(),
  /** Headers worth keeping, lower-cased names. */
  headers: z.record(z.string(), z.string()),
});
export type EmailMeta = z.infer<typeof EmailMeta>;

/** A customer's message, normalized. */
export const InboundMessage = z.object({
  kind: z.literal('message'),
  channel: Channel,
  /** How the webhook names our channel account (phone_number_id, page id, Twilio number, inbound address). */
  account_identifier: z.string(),
  /** The provider's id of this message (wamid, mid, MessageSid, Message-ID). Dedupe key. */
  external_id: z.string().min(1),
  /** The contact: phone number (E.164 without prefixes), PSID/IGSID, or email address. */
  sender_identifier: z.string().min(1),
  sender_name: z.string().nullable(),
  /** When the provider says the customer sent it. */
  timestamp: z.date(),
  type: MessageType,
  text: z.string().nullable(),
  media: z.array(Media),
  location: Location.nullable(),
  email: EmailMeta.nullable(),
  /** The provider id of the message this one replies to (WhatsApp context.id, Messenger reply_to.mid). */
  reply_to_external_id: z.string().nullable(),
  /** Provider-specific extras worth keeping (interactive reply ids, referral, etc.). */
  extra: z.record(z.string(), z.unknown()),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

/** A delivery status for one of our outbound messages, normalized. */
export const StatusEvent = z.object({
  kind: z.literal('status'),
  channel: Channel,
  account_identifier: z.string(),
  /** The provider's id of our outbound message. Null for watermark events. */
  external_id: z.string().nullable(),
  /** Messenger/Instagram delivery and read receipts: every outbound message to `recipient_identifier` at or before it. */
  watermark: z.date().nullable(),
  /** The contact the status is about, when the provider says. */
  recipient_identifier: z.string().nullable(),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  timestamp: z.date(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

export type NormalizedEvent = InboundMessage | StatusEvent;
