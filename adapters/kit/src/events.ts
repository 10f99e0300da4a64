/** The normalized events every provider's webhook becomes (DESIGN §8). */
import { z } from 'zod';
import { isPlausibleTime, Latitude, Longitude } from './bounds.js';

/*
 * Bounds on every value, so that whatever an adapter returns can be checked before it is stored (core's inbound
 * pipeline does): ids short enough for a unique index, times PostgreSQL and ISO strings can hold, coordinates on the
 * globe. A value outside them is a malformed webhook (400), never a failed insert (503).
 */
const Id = z.string().min(1).max(1024);
const Identifier = z.string().max(320);
const Time = z.date().refine((d) => isPlausibleTime(d), 'a time between 2000-01-01 and a day from now');

/** The channels a conversation can come from; also the channel account's `provider`. */
export const Channel = z.enum(['whatsapp', 'messenger', 'instagram', 'sms', 'twilio_whatsapp', 'email']);
export type Channel = z.infer<typeof Channel>;

export const MessageType = z.enum(['text', 'image', 'document', 'audio', 'video', 'location']);
export type MessageType = z.infer<typeof MessageType>;

export const DeliveryStatus = z.enum(['pending', 'sent', 'delivered', 'read', 'failed']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const Media = z.object({
  /** Provider media id (WhatsApp) or null when the provider gives a URL only. */
  id: Id.nullable(),
  url: z.string().max(2048).nullable(),
  mime_type: z.string().max(255).nullable(),
  filename: z.string().max(1024).nullable(),
  size: z.number().int().nonnegative().nullable(),
  caption: z.string().nullable(),
  /**
   * The bytes themselves, when the webhook carries them (email attachments): stored at once, never fetched. Never
   * kept on the message: core stores them in the media store and records the file instead.
   */
  content: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'bytes').optional(),
});
export type Media = z.infer<typeof Media>;

export const Location = z.object({
  latitude: Latitude,
  longitude: Longitude,
  name: z.string().max(1024).nullable(),
  address: z.string().max(1024).nullable(),
});
export type Location = z.infer<typeof Location>;

export const EmailMeta = z.object({
  subject: z.string().nullable(),
  message_id: Id.nullable(),
  in_reply_to: Id.nullable(),
  references: z.array(Id).max(1000),
  from: Identifier.nullable(),
  to: z.array(Identifier).max(1000),
  cc: z.array(Identifier).max(1000),
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
  account_identifier: Identifier,
  /** The provider's id of this message (wamid, mid, MessageSid, Message-ID). Dedupe key. */
  external_id: Id,
  /** The contact: phone number (E.164 without prefixes), PSID/IGSID, or email address. */
  sender_identifier: Identifier.min(1),
  sender_name: z.string().max(1024).nullable(),
  /** When the provider says the customer sent it. */
  timestamp: Time,
  type: MessageType,
  text: z.string().nullable(),
  media: z.array(Media),
  location: Location.nullable(),
  email: EmailMeta.nullable(),
  /** The provider id of the message this one replies to (WhatsApp context.id, Messenger reply_to.mid). */
  reply_to_external_id: Id.nullable(),
  /** Provider-specific extras worth keeping (interactive reply ids, referral, etc.). */
  extra: z.record(z.string(), z.unknown()),
});
export type InboundMessage = z.infer<typeof InboundMessage>;

export const StatusNote = z.object({
  kind: z.enum(['complaint', 'transient_bounce', 'delivery_delay']),
  /** The provider's own words: feedback type, bounce subtype, diagnostic, delay type. */
  detail: z.string().max(4096),
});
export type StatusNote = z.infer<typeof StatusNote>;

/** A delivery status for one of our outbound messages, normalized. */
export const StatusEvent = z.object({
  kind: z.literal('status'),
  channel: Channel,
  account_identifier: Identifier,
  /** The provider's id of our outbound message. Null for watermark events. */
  external_id: Id.nullable(),
  /** Messenger/Instagram delivery and read receipts: every outbound message to `recipient_identifier` at or before it. */
  watermark: Time.nullable(),
  /** The contact the status is about, when the provider says. */
  recipient_identifier: Identifier.nullable(),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  timestamp: Time,
  error: z.object({ code: z.string().min(1).max(64), message: z.string().max(4096) }).nullable(),
  /**
   * Feedback that does not move the status (SES Complaint, a transient Bounce, DeliveryDelay): kept on the message's
   * metadata; a complaint also flags the conversation. Sent with `status: 'sent'`, which never moves a message back.
   */
  note: StatusNote.nullable().optional(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

/** What an adapter's parse returns, one by one: core checks each against this before anything is stored. */
export const NormalizedEvent = z.discriminatedUnion('kind', [InboundMessage, StatusEvent]);
export type NormalizedEvent = InboundMessage | StatusEvent;
