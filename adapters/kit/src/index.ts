/**
 * The adapter contract: what every provider package turns a webhook into, and
 * what it needs to send a reply. Pure types and schemas; no I/O, no database.
 */
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

/** The request as the gateway hands it to an adapter: raw bytes first, parsing after verification. */
export interface RawRequest {
  /** The full URL the provider called (PUBLIC_BASE_URL + path + query for Twilio). */
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Thrown by parse on a body that is not the provider's shape; the gateway answers 400. */
export class MalformedPayloadError extends Error {
  override name = 'MalformedPayloadError';
}

/** An outbound message, as the worker hands it to an adapter's send. */
export const OutboundMessage = z.object({
  /** Our id, carried to the provider where it allows (SendGrid custom_args, Twilio statusCallback). */
  message_id: z.number().int(),
  tenant: z.string(),
  /** The recipient: phone number, PSID/IGSID or email address. */
  to: z.string(),
  /** Our channel account identifier (phone_number_id, page id, Twilio number, inbound address). */
  from: z.string(),
  type: MessageType,
  text: z.string().nullable(),
  media_url: z.string().nullable(),
  /** WhatsApp template for replies outside the 24-hour window. */
  template: z
    .object({ name: z.string(), language: z.string(), components: z.array(z.unknown()).default([]) })
    .nullable()
    .default(null),
  /** Email only. */
  subject: z.string().nullable().default(null),
  in_reply_to: z.string().nullable().default(null),
  references: z.array(z.string()).default([]),
  /** Where the provider should post delivery statuses (Twilio statusCallback). */
  status_callback_url: z.string().nullable().default(null),
});
export type OutboundMessage = z.infer<typeof OutboundMessage>;

export type SendResult = { provider_message_id: string };

/**
 * A provider's refusal or failure. `transient` errors (network, 5xx, rate limit) are retried;
 * permanent ones (bad recipient, window closed, bad request) fail the message at once.
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly code: string,
    message: string,
    readonly transient: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** Credentials as stored on a channel account (decrypted), keyed by the names of DESIGN Appendix A. */
export type Credentials = Record<string, string | undefined>;

/** Options every send takes: the provider's base URL comes from config so tests can use a fake on loopback. */
export interface SendOptions {
  baseUrl: string;
  /** Abort a send that takes too long; the worker retries it. */
  signal?: AbortSignal;
}

/**
 * One inbound webhook route's adapter. The gateway calls, in order:
 * accountIdentifiers (untrusted peek, to find the account whose secret signs the request),
 * verify (raw bytes, that account's credentials), then parse.
 */
export interface InboundAdapter {
  /** The account identifiers the request names, read before it is trusted. Throws MalformedPayloadError. */
  accountIdentifiers(req: RawRequest): string[] | Promise<string[]>;
  /** Checks the provider's signature over the raw bytes with the account's credentials. */
  verify(req: RawRequest, credentials: Credentials): VerifyResult;
  /** Every message and status the request carries, in order. Throws MalformedPayloadError. */
  parse(req: RawRequest): NormalizedEvent[] | Promise<NormalizedEvent[]>;
}

/** A provider's send. Throws ProviderError (transient or permanent). */
export type SendFn = (message: OutboundMessage, credentials: Credentials, options: SendOptions) => Promise<SendResult>;
export * from './meta.js';
export * from './http.js';
