/**
 * Messenger (`object: page`) and Instagram (`object: instagram`) messaging webhooks → normalized events.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
 * https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 */
import {
  GraphId,
  HttpsUrl,
  type InboundMessage,
  Latitude,
  Longitude,
  type MessageType,
  type NormalizedEvent,
  ProviderId,
  parseJsonBody,
  type RawRequest,
  readWire,
  ShortText,
  UnixMillis,
} from '@comms/adapter-kit';
import { z } from 'zod';

/*
 * Every value read is validated as the webhook reference documents it (issue 21 point 2): timestamps and watermarks
 * are integers of milliseconds since the epoch, page, Instagram and user ids strings of digits, message ids bounded
 * strings, attachment URLs https. A signed webhook with a value outside them is malformed (400), never a failed
 * insert (503).
 */

/** A message id (`m_…`, or Instagram's base64 id). */
const Mid = ProviderId(512);

const Attachment = z.object({
  /** image, video, audio, file, location, fallback, template, … Meta adds kinds: unknown ones are kept as documents. */
  type: z.string().regex(/^[a-z_]{1,32}$/, 'an attachment type of lower-case letters and underscores'),
  payload: z
    .object({
      url: HttpsUrl.optional(),
      title: ShortText().optional(),
      coordinates: z.object({ lat: Latitude, long: Longitude }).optional(),
    })
    .nullish(),
});

const Messaging = z.object({
  sender: z.object({ id: GraphId }),
  recipient: z.object({ id: GraphId }),
  timestamp: UnixMillis,
  message: z
    .object({
      mid: Mid,
      text: z.string().optional(),
      is_echo: z.boolean().optional(),
      attachments: z.array(Attachment).max(100).optional(),
      quick_reply: z.object({ payload: ShortText(1000) }).optional(),
      reply_to: z.object({ mid: Mid.optional() }).optional(),
    })
    .optional(),
  delivery: z.object({ mids: z.array(Mid).optional(), watermark: UnixMillis }).optional(),
  read: z.object({ watermark: UnixMillis }).optional(),
  postback: z
    .object({ title: ShortText().optional(), payload: ShortText(1000).optional(), mid: Mid.optional() })
    .optional(),
});

const Payload = z.object({
  object: z.enum(['page', 'instagram']),
  entry: z.array(z.object({ id: GraphId, time: UnixMillis.optional(), messaging: z.array(Messaging).optional() })),
});

/** Only what names the accounts: read before the signature is checked, so nothing else is judged here. */
const Addressed = z.object({ object: z.enum(['page', 'instagram']), entry: z.array(z.object({ id: GraphId })) });

const NOT_MESSENGER = 'not a Messenger or Instagram webhook';

/**
 * The page or Instagram account ids the webhook names (`entry[].id`). The rest of the values are judged by parse,
 * after the signature: a signed webhook with a bad value is kept as a rejected receipt.
 */
export function messengerAccountIdentifiers(req: RawRequest): string[] {
  return readWire(Addressed, parseJsonBody(req), NOT_MESSENGER).entry.map((e) => e.id);
}

const KIND: Record<string, MessageType> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  file: 'document',
  location: 'location',
};

/** Every message, delivery and read receipt of the webhook; echoes of our own messages are skipped. */
export function parseMessenger(req: RawRequest): NormalizedEvent[] {
  const payload = readWire(Payload, parseJsonBody(req), NOT_MESSENGER);
  const channel = payload.object === 'page' ? 'messenger' : 'instagram';
  const events: NormalizedEvent[] = [];
  for (const entry of payload.entry) {
    for (const ev of entry.messaging ?? []) {
      const at = ev.timestamp;
      const base = {
        kind: 'message' as const,
        channel,
        account_identifier: entry.id,
        sender_identifier: ev.sender.id,
        sender_name: null,
        timestamp: at,
        email: null,
      } satisfies Partial<InboundMessage>;
      if (ev.message) {
        if (ev.message.is_echo) continue; // our own outbound message, echoed back
        const first = ev.message.attachments?.[0];
        const type = first ? (KIND[first.type] ?? 'document') : 'text';
        const coords = first?.payload?.coordinates;
        events.push({
          ...base,
          external_id: ev.message.mid,
          type,
          text: ev.message.text ?? first?.payload?.title ?? null,
          media: (ev.message.attachments ?? [])
            .filter((a) => a.payload?.url)
            .map((a) => ({
              id: null,
              url: a.payload!.url!,
              mime_type: null,
              filename: null,
              size: null,
              caption: null,
            })),
          location: coords
            ? { latitude: coords.lat, longitude: coords.long, name: first?.payload?.title ?? null, address: null }
            : null,
          reply_to_external_id: ev.message.reply_to?.mid ?? null,
          extra: ev.message.quick_reply ? { quick_reply_payload: ev.message.quick_reply.payload } : {},
        });
      } else if (ev.postback) {
        // A tapped button: the customer "said" its title.
        events.push({
          ...base,
          external_id: ev.postback.mid ?? `postback-${ev.sender.id}-${ev.timestamp.getTime()}`,
          type: 'text',
          text: ev.postback.title ?? ev.postback.payload ?? '',
          media: [],
          location: null,
          reply_to_external_id: null,
          extra: { postback_payload: ev.postback.payload },
        });
      } else if (ev.delivery || ev.read) {
        // Receipts carry a watermark: everything we sent this contact up to it is delivered (or read).
        const watermark = (ev.delivery ?? ev.read)!.watermark;
        events.push({
          kind: 'status',
          channel,
          account_identifier: entry.id,
          external_id: null,
          watermark,
          recipient_identifier: ev.sender.id,
          status: ev.delivery ? 'delivered' : 'read',
          timestamp: at,
          error: null,
        });
      }
    }
  }
  return events;
}
