/** The inbound half of the contract: the raw request, verification and parsing (DESIGN §8). */
import type { Channel, NormalizedEvent } from './events.js';

/** The request as the gateway hands it to an adapter: raw bytes first, parsing after verification. */
export interface RawRequest {
  /** The full URL the provider called (PUBLIC_BASE_URL + path + query for Twilio). */
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * `forbidden`: the signature is the provider's, but the account does not take what it signed (an SNS topic the
 * account does not list): 403 rather than 401.
 */
export type VerifyResult = { ok: true } | { ok: false; reason: string; forbidden?: boolean };

/** One thing wrong with a payload: the field, named from the body's root (`entry[0].id`), and what it should be. */
export interface PayloadIssue {
  field: string;
  message: string;
}

/**
 * Thrown by parse on a body that is not the provider's shape, or whose values are not what the provider documents;
 * the gateway answers 400 (and keeps a signed one as a rejected receipt). `issues` name the fields.
 */
export class MalformedPayloadError extends Error {
  override name = 'MalformedPayloadError';
  readonly issues: PayloadIssue[];
  constructor(message: string, options?: { issues?: PayloadIssue[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options?.issues ?? [];
  }
}

/**
 * Thrown by parse when what the webhook points at (SES mail kept in S3) cannot be fetched right now: nothing is
 * stored and the gateway answers 503, so the provider redelivers.
 */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
}

/** Credentials as stored on a channel account (decrypted), keyed by the names of DESIGN Appendix A. */
export type Credentials = Record<string, string | undefined>;

/** A provider's subscription handshake: the token it was configured with, and the challenge to echo. */
export interface Handshake {
  verifyToken: string;
  challenge: string;
}

/**
 * A subscription message carried in the webhook itself (SNS SubscriptionConfirmation, UnsubscribeConfirmation):
 * `confirm` is called once the verified receipt is stored for the first time, never for a redelivery.
 */
export type Subscription =
  | { kind: 'confirm'; topic: string; confirm(): Promise<void> }
  | { kind: 'unsubscribed'; topic: string };

/** An account's transport settings (not secret), as the channel account stores them. */
export type AccountSettings = Record<string, unknown>;

/** The account a request verified with: its credentials and transport settings. */
export interface VerifiedAccount {
  credentials: Credentials;
  settings: AccountSettings;
}

/**
 * One inbound webhook route's adapter. The gateway calls, in order:
 * accountIdentifiers (untrusted peek, to find the account whose secret signs the request),
 * verify (raw bytes, that account's credentials), then parse.
 */
export interface InboundAdapter {
  /** The channel-account providers whose accounts this route's webhooks name. */
  readonly channels: readonly Channel[];
  /** The webhooks name no account (SendGrid's Event Webhook): the tenant's accounts are tried, or `?account=<id>`. */
  readonly accountless?: boolean;
  /** What the provider wants as a success answer, when not JSON (Twilio reads the body as TwiML). */
  readonly acknowledgement?: { contentType: string; body: string };
  /** The GET subscription handshake (Meta's hub.challenge), read from the query. Throws MalformedPayloadError. */
  handshake?(query: URLSearchParams): Handshake;
  /** The account identifiers the request names, read before it is trusted. Throws MalformedPayloadError. */
  accountIdentifiers(req: RawRequest): string[] | Promise<string[]>;
  /** Only the email accounts of this transport (`ses`); without it, the accounts of the default transport. */
  readonly transport?: string;
  /**
   * Checks the provider's signature over the raw bytes with the account's credentials (and, where the provider
   * signs with its own keys, that the account takes what was signed: its `settings`). May fetch the provider's
   * public certificate, cached.
   */
  verify(req: RawRequest, credentials: Credentials, settings?: AccountSettings): VerifyResult | Promise<VerifyResult>;
  /** A verified request that is a subscription message rather than events; null for events. */
  subscription?(req: RawRequest): Subscription | null;
  /** The receipt's dedupe key when the provider names its deliveries (SNS MessageId); the body's hash otherwise. */
  dedupeKey?(req: RawRequest): string;
  /**
   * Every message and status the request carries, in order. `account` is the verified account, for a provider
   * whose webhook points at more to fetch with its credentials (SES's S3 action). Throws MalformedPayloadError.
   */
  parse(req: RawRequest, account?: VerifiedAccount): NormalizedEvent[] | Promise<NormalizedEvent[]>;
}
