/**
 * Messenger (`object: page`) and Instagram (`object: instagram`) messaging webhooks → normalized events.
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-deliveries
 * https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/message-reads
 * https://developers.facebook.com/docs/instagram-platform/webhooks/examples
 */
import {
  type InboundMessage,
  MalformedPayloadError,
  type MessageType,
  type NormalizedEvent,
  parseJsonBody,
  type RawRequest,
} from '@comms/adapter-kit';
import { z } from 'zod';

const Attachment = z.object({
  type: z.string(),
  payload: z
    .object({
      url: z.string().optional(),
      title: z.string().optional(),
      coordinates: z.object({ lat: z.number(), long: z.number() }).optional(),
    })
    .passthrough()
    .nullish(),
});

const Messaging = z
  .object({
    sender: z.object({ id: z.string() }),
    recipient: z.object({ id: z.string() }),
    timestamp: z.number(),
    message: z
      .object({
        mid: z.string(),
        text: z.string().optional(),
        is_echo: z.boolean().optional(),
        attachments: z.array(Attachment).optional(),
        quick_reply: z.object({ payload: z.string() }).optional(),
        reply_to: z.object({ mid: z.string().optional() }).optional(),
      })
      .optional(),
    delivery: z.object({ mids: z.array(z.string()).optional(), watermark: z.number() }).optional(),
    read: z.object({ watermark: z.number() }).optional(),
    postback: z
      .object({ title: z.string().optional(), payload: z.string().optional(), mid: z.string().optional() })
      .optional(),
  })
  .passthrough();

const Payload = z.object({
  object: z.enum(['page', 'instagram']),
  entry: z.array(z.object({ id: z.string(), time: z.number().optional(), messaging: z.array(Messaging).optional() })),
});

function readPayload(req: RawRequest) {
  const parsed = Payload.safeParse(parseJsonBody(req));
  if (!parsed.success)
    throw new MalformedPayloadError(`not a Messenger or Instagram webhook: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The page or Instagram account ids the webhook names (`entry[].id`). */
export function messengerAccountIdentifiers(req: RawRequest): string[] {
  return readPayload(req).entry.map((e) => e.id);
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
  const payload = readPayload(req);
  const channel = payload.object === 'page' ? 'messenger' : 'instagram';
  const events: NormalizedEvent[] = [];
  for (const entry of payload.entry) {
    for (const ev of entry.messaging ?? []) {
      const at = new Date(ev.timestamp);
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
          external_id: ev.postback.mid ?? `postback-${ev.sender.id}-${ev.timestamp}`,
          type: 'text',
          text: ev.postback.title ?? ev.postback.payload ?? '',
          media: [],
          location: null,
          reply_to_external_id: null,
          extra: { postback_payload: ev.postback.payload },
        });
      } else if (ev.delivery || ev.read) {
        // Receipts carry a watermark: everything we sent this contact up to it is delivered (or read).
        const watermark = new Date((ev.delivery ?? ev.read)!.watermark);
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
