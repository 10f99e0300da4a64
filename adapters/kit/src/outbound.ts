/** The outbound half of the contract: what the worker hands a provider's send, and what it gets back (DESIGN §9). */
import { z } from 'zod';
import type { Credentials } from './inbound.js';
import { type Channel, MessageType } from './events.js';

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
  /** Email only: files sent as real MIME attachments (the bytes base64-encoded, as SendGrid's API takes them). */
  attachments: z.array(z.object({ filename: z.string(), type: z.string(), content_base64: z.string() })).optional(),
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

/** Options every send takes: the provider's base URL comes from config so tests can use a fake on loopback. */
export interface SendOptions {
  baseUrl: string;
  /** Abort a send that takes too long; the worker retries it. */
  signal?: AbortSignal;
  /** The account's transport settings (SES: region, from_email, configuration set). */
  settings?: Record<string, unknown>;
}

/** A provider's send. Throws ProviderError (transient or permanent). */
export type SendFn = (message: OutboundMessage, credentials: Credentials, options: SendOptions) => Promise<SendResult>;

/** A webhook as a provider posts it: the raw body and the headers that authenticate it. */
export interface SignedWebhook {
  body: string;
  headers: Record<string, string>;
}

/** One delivery status of a message we sent, as its provider would report it. */
export interface StatusReport {
  channel: Channel;
  /** The message as it was sent: `from` is our account identifier, `to` the recipient. */
  message: OutboundMessage;
  /** The id the send returned. */
  provider_message_id: string;
  status: 'delivered' | 'read';
  at: Date;
  /** The full URL the provider calls with it, as the gateway sees it (Twilio signs it). */
  url: string;
}

/**
 * A provider's part in the sandbox transport (a development stand-in for the provider): an id of the provider's
 * shape for an accepted send, and the status webhook the provider itself would post for it, signed with the
 * account's credentials, so the statuses come back through the gateway's own route, verification and parsing.
 * Builds and signs; sends nothing.
 */
export interface ProviderSandbox {
  /** A new message id shaped like the provider's. */
  messageId(): string;
  /** The provider's status webhook for `report`. Throws when the credentials cannot sign it. */
  statusWebhook(report: StatusReport, credentials: Credentials): SignedWebhook;
}
