/** The inbound half of the contract: the raw request, verification and parsing (DESIGN §8). */
import type { Channel, NormalizedEvent } from './events.js';

/** The request as the gateway hands it to an adapter: raw bytes first, parsing after verification. */
export interface RawRequest {
  /** The full URL the provider called (PUBLIC_BASE_URL + path + query for Twilio). */
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

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

/** Credentials as stored on a channel account (decrypted), keyed by the names of DESIGN Appendix A. */
export type Credentials = Record<string, string | undefined>;

/** A provider's subscription handshake: the token it was configured with, and the challenge to echo. */
export interface Handshake {
  verifyToken: string;
  challenge: string;
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
  /** Checks the provider's signature over the raw bytes with the account's credentials. */
  verify(req: RawRequest, credentials: Credentials): VerifyResult;
  /** Every message and status the request carries, in order. Throws MalformedPayloadError. */
  parse(req: RawRequest): NormalizedEvent[] | Promise<NormalizedEvent[]>;
}
