/**
 * Twilio Messaging webhooks → normalized events.
 * Inbound SMS/MMS/WhatsApp: https://www.twilio.com/docs/messaging/guides/webhook-request
 * WhatsApp extras (ProfileName, WaId, Latitude/Longitude, OriginalRepliedMessageSid):
 *   https://www.twilio.com/docs/whatsapp/api#inbound-message-parameters
 * Status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 */
import {
  HttpsUrl,
  type InboundMessage,
  Latitude,
  Longitude,
  MalformedPayloadError,
  type MessageType,
  MimeType,
  type RawRequest,
  readWire,
  ShortText,
  type StatusEvent,
} from '@comms/adapter-kit';
import { z } from 'zod';
import { formParams, stripWhatsApp } from './form.js';

/*
 * Every parameter read is validated as Twilio documents it (issue 21 point 2): SIDs are two letters and 32 hex digits,
 * addresses phone numbers (`whatsapp:`-prefixed for WhatsApp), counts and codes digits, coordinates decimals on the
 * globe, media URLs https, statuses one of the documented values. A signed webhook with a value outside them is
 * malformed (400), never a failed insert (503).
 */

/** A Twilio SID: two capital letters and 32 hex digits (https://www.twilio.com/docs/glossary/what-is-a-sid). */
const Sid = z.string().regex(/^[A-Z]{2}[0-9a-fA-F]{32}$/, 'a Twilio SID: two capital letters and 32 hex digits');
/** A phone number in E.164 (or a short code), `whatsapp:`-prefixed for WhatsApp. */
const Address = z
  .string()
  .regex(/^(whatsapp:)?\+?\d{3,15}$/i, 'a phone number in E.164 (whatsapp:-prefixed for WhatsApp)');
const Digits = (max: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^\\d{1,${max}}$`), what)
    .transform(Number);
const Coordinate = (range: z.ZodNumber, what: string) =>
  z
    .string()
    .regex(/^[+-]?\d{1,3}(\.\d{1,20})?$/, `a decimal ${what}`)
    .transform(Number)
    .pipe(range);

/** Twilio sends some parameters empty (`FromZip=`): an empty optional parameter is an absent one. */
const optional = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const Inbound = z.object({
  From: Address,
  To: Address,
  MessageSid: optional(Sid),
  SmsMessageSid: optional(Sid),
  SmsSid: optional(Sid),
  Body: z.string().optional(),
  NumMedia: optional(Digits(2, 'a count of media').pipe(z.number().max(10, 'at most 10 media'))),
  Latitude: optional(Coordinate(Latitude, 'latitude')),
  Longitude: optional(Coordinate(Longitude, 'longitude')),
  Label: optional(ShortText()),
  Address: optional(ShortText()),
  ProfileName: optional(ShortText(256)),
  OriginalRepliedMessageSid: optional(Sid),
  NumSegments: optional(Digits(3, 'a count of segments')),
  ButtonPayload: optional(ShortText(4096)),
  FromCountry: optional(z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code')),
});

/** Each of the NumMedia media: its URL and content type. */
const mediaSchema = (count: number) =>
  z.object(
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        [`MediaUrl${i}`, HttpsUrl],
        [`MediaContentType${i}`, MimeType],
      ]).flat(),
    ) as Record<string, z.ZodType<string>>,
  );

/** Every status Twilio documents for a message (https://www.twilio.com/docs/messaging/api/message-resource#message-status-values). */
const MessageStatus = z.enum([
  'queued',
  'sending',
  'sent',
  'failed',
  'delivered',
  'undelivered',
  'receiving',
  'received',
  'accepted',
  'scheduled',
  'read',
  'partially_delivered',
  'canceled',
]);

const Status = z.object({
  MessageSid: optional(Sid),
  SmsSid: optional(Sid),
  MessageStatus: optional(MessageStatus),
  SmsStatus: optional(MessageStatus),
  ErrorCode: optional(z.string().regex(/^\d{1,6}$/, 'a Twilio error code (digits)')),
  ErrorMessage: optional(ShortText()),
  From: Address,
  To: optional(Address),
});

function field(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (!v) throw new MalformedPayloadError(`missing ${name}`, { issues: [{ field: name, message: 'required' }] });
  return v;
}

function mediaType(contentType: string | undefined): MessageType {
  if (!contentType) return 'document';
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('video/')) return 'video';
  if (contentType.startsWith('audio/')) return 'audio';
  return 'document';
}

/** Inbound: the account is the number written to (`To`). The other parameters are judged by parse, once signed. */
export function twilioInboundIdentifiers(req: RawRequest): string[] {
  return [stripWhatsApp(field(formParams(req), 'To'))];
}

/** Status callbacks: the account is our sending number (`From`). */
export function twilioStatusIdentifiers(req: RawRequest): string[] {
  return [stripWhatsApp(field(formParams(req), 'From'))];
}

const NOT_INBOUND = 'not a Twilio inbound message';

/** One inbound SMS, MMS or WhatsApp message; every parameter checked (MalformedPayloadError names it). */
export function parseTwilioInbound(req: RawRequest): InboundMessage[] {
  const params = formParams(req);
  const p = readWire(Inbound, params, NOT_INBOUND);
  const sid = p.MessageSid ?? p.SmsMessageSid ?? p.SmsSid;
  if (!sid)
    throw new MalformedPayloadError('missing MessageSid', { issues: [{ field: 'MessageSid', message: 'required' }] });
  const whatsapp = /^whatsapp:/i.test(p.From) || /^whatsapp:/i.test(p.To);
  const count = p.NumMedia ?? 0;
  const m = readWire(mediaSchema(count), params, NOT_INBOUND);
  const media = Array.from({ length: count }, (_, i) => ({
    id: null,
    url: m[`MediaUrl${i}`]!,
    mime_type: m[`MediaContentType${i}`]!,
    filename: null,
    size: null,
    caption: null,
  }));
  const hasLocation = p.Latitude !== undefined && p.Longitude !== undefined;
  const type: MessageType = hasLocation ? 'location' : media.length ? mediaType(media[0]!.mime_type) : 'text';
  return [
    {
      kind: 'message',
      channel: whatsapp ? 'twilio_whatsapp' : 'sms',
      account_identifier: stripWhatsApp(p.To),
      external_id: sid,
      sender_identifier: stripWhatsApp(p.From),
      sender_name: p.ProfileName ?? null,
      // Twilio's inbound webhook carries no send time: the time we receive it is the closest there is.
      timestamp: new Date(),
      type,
      text: p.Body ?? null,
      media,
      location: hasLocation
        ? { latitude: p.Latitude!, longitude: p.Longitude!, name: p.Label ?? null, address: p.Address ?? null }
        : null,
      email: null,
      reply_to_external_id: p.OriginalRepliedMessageSid ?? null,
      extra: {
        ...(p.NumSegments !== undefined ? { num_segments: p.NumSegments } : {}),
        ...(p.ButtonPayload ? { button_payload: p.ButtonPayload } : {}),
        ...(p.FromCountry ? { from_country: p.FromCountry } : {}),
      },
    },
  ];
}

/** `queued`, `accepted`, `sending`, `scheduled` are steps before `sent`: nothing to record yet. */
const STATUS: Partial<Record<z.infer<typeof MessageStatus>, StatusEvent['status']>> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
};

/** One status callback; every parameter checked (MalformedPayloadError names it). */
export function parseTwilioStatus(req: RawRequest): StatusEvent[] {
  const p = readWire(Status, formParams(req), 'not a Twilio status callback');
  const sid = p.MessageSid ?? p.SmsSid;
  if (!sid)
    throw new MalformedPayloadError('missing MessageSid', { issues: [{ field: 'MessageSid', message: 'required' }] });
  const raw = p.MessageStatus ?? p.SmsStatus;
  if (!raw)
    throw new MalformedPayloadError('missing MessageStatus', {
      issues: [{ field: 'MessageStatus', message: 'required' }],
    });
  const status = STATUS[raw];
  if (!status) return [];
  return [
    {
      kind: 'status',
      channel: /^whatsapp:/i.test(p.From) ? 'twilio_whatsapp' : 'sms',
      account_identifier: stripWhatsApp(p.From),
      external_id: sid,
      watermark: null,
      recipient_identifier: p.To ? stripWhatsApp(p.To) : null,
      status,
      timestamp: new Date(),
      error: status === 'failed' ? { code: p.ErrorCode ?? raw, message: p.ErrorMessage ?? `message ${raw}` } : null,
    },
  ];
}
