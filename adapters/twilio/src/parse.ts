/**
 * Twilio Messaging webhooks → normalized events.
 * Inbound SMS/MMS/WhatsApp: https://www.twilio.com/docs/messaging/guides/webhook-request
 * WhatsApp extras (ProfileName, WaId, Latitude/Longitude, OriginalRepliedMessageSid):
 *   https://www.twilio.com/docs/whatsapp/api#inbound-message-parameters
 * Status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 */
import {
  type InboundMessage,
  MalformedPayloadError,
  type MessageType,
  type RawRequest,
  type StatusEvent,
} from '@comms/adapter-kit';
import { formParams, stripWhatsApp } from './form.js';

function field(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (!v) throw new MalformedPayloadError(`missing ${name}`);
  return v;
}

function mediaType(contentType: string | undefined): MessageType {
  if (!contentType) return 'document';
  if (contentType.startsWith('image/')) return 'image';
  if (contentType.startsWith('video/')) return 'video';
  if (contentType.startsWith('audio/')) return 'audio';
  return 'document';
}

/** Inbound: the account is the number written to (`To`). */
export function twilioInboundIdentifiers(req: RawRequest): string[] {
  return [stripWhatsApp(field(formParams(req), 'To'))];
}

/** Status callbacks: the account is our sending number (`From`). */
export function twilioStatusIdentifiers(req: RawRequest): string[] {
  return [stripWhatsApp(field(formParams(req), 'From'))];
}

/** One inbound SMS, MMS or WhatsApp message. */
export function parseTwilioInbound(req: RawRequest): InboundMessage[] {
  const p = formParams(req);
  const from = field(p, 'From');
  const to = field(p, 'To');
  const sid = p.MessageSid ?? p.SmsMessageSid ?? p.SmsSid;
  if (!sid) throw new MalformedPayloadError('missing MessageSid');
  const whatsapp = /^whatsapp:/i.test(from) || /^whatsapp:/i.test(to);
  const count = Number(p.NumMedia ?? '0') || 0;
  const media = Array.from({ length: count }, (_, i) => ({
    id: null,
    url: p[`MediaUrl${i}`] ?? null,
    mime_type: p[`MediaContentType${i}`] ?? null,
    filename: null,
    size: null,
    caption: null,
  }));
  const lat = Number(p.Latitude);
  const long = Number(p.Longitude);
  const hasLocation =
    p.Latitude !== undefined && p.Longitude !== undefined && Number.isFinite(lat) && Number.isFinite(long);
  const type: MessageType = hasLocation
    ? 'location'
    : media.length
      ? mediaType(media[0]!.mime_type ?? undefined)
      : 'text';
  return [
    {
      kind: 'message',
      channel: whatsapp ? 'twilio_whatsapp' : 'sms',
      account_identifier: stripWhatsApp(to),
      external_id: sid,
      sender_identifier: stripWhatsApp(from),
      sender_name: p.ProfileName || null,
      // Twilio's inbound webhook carries no send time: the time we receive it is the closest there is.
      timestamp: new Date(),
      type,
      text: p.Body ?? null,
      media,
      location: hasLocation
        ? { latitude: lat, longitude: long, name: p.Label ?? null, address: p.Address ?? null }
        : null,
      email: null,
      reply_to_external_id: p.OriginalRepliedMessageSid ?? null,
      extra: {
        ...(p.NumSegments ? { num_segments: Number(p.NumSegments) } : {}),
        ...(p.ButtonPayload ? { button_payload: p.ButtonPayload } : {}),
        ...(p.FromCountry ? { from_country: p.FromCountry } : {}),
      },
    },
  ];
}

/** `queued`, `accepted`, `sending`, `scheduled` are steps before `sent`: nothing to record yet. */
const STATUS: Record<string, StatusEvent['status'] | undefined> = {
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'failed',
  failed: 'failed',
};

/** One status callback. */
export function parseTwilioStatus(req: RawRequest): StatusEvent[] {
  const p = formParams(req);
  const sid = p.MessageSid ?? p.SmsSid;
  if (!sid) throw new MalformedPayloadError('missing MessageSid');
  const raw = p.MessageStatus ?? p.SmsStatus;
  if (!raw) throw new MalformedPayloadError('missing MessageStatus');
  const status = STATUS[raw];
  if (!status) return [];
  return [
    {
      kind: 'status',
      channel: /^whatsapp:/i.test(p.From ?? '') ? 'twilio_whatsapp' : 'sms',
      account_identifier: stripWhatsApp(field(p, 'From')),
      external_id: sid,
      watermark: null,
      recipient_identifier: p.To ? stripWhatsApp(p.To) : null,
      status,
      timestamp: new Date(),
      error: status === 'failed' ? { code: p.ErrorCode ?? raw, message: p.ErrorMessage ?? `message ${raw}` } : null,
    },
  ];
}
