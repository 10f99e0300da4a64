/**
 * WhatsApp Cloud API webhook → normalized events. Every entry, change, message and status is handled.
 * Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
 * Components: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 */
import {
  type InboundMessage,
  MalformedPayloadError,
  type Media,
  type NormalizedEvent,
  parseJsonBody,
  type RawRequest,
  type StatusEvent,
} from '@comms/adapter-kit';
import { z } from 'zod';

const MediaObject = z.object({
  id: z.string().optional(),
  link: z.string().optional(),
  mime_type: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
});

const WaMessage = z
  .object({
    from: z.string(),
    id: z.string(),
    timestamp: z.string(),
    type: z.string(),
    text: z.object({ body: z.string() }).optional(),
    image: MediaObject.optional(),
    document: MediaObject.optional(),
    audio: MediaObject.optional(),
    video: MediaObject.optional(),
    sticker: MediaObject.optional(),
    location: z
      .object({
        latitude: z.number(),
        longitude: z.number(),
        name: z.string().optional(),
        address: z.string().optional(),
      })
      .optional(),
    interactive: z
      .object({
        type: z.string(),
        button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
        list_reply: z.object({ id: z.string(), title: z.string(), description: z.string().optional() }).optional(),
      })
      .optional(),
    button: z.object({ payload: z.string().optional(), text: z.string() }).optional(),
    reaction: z.object({ message_id: z.string(), emoji: z.string().optional() }).optional(),
    contacts: z.array(z.unknown()).optional(),
    context: z.object({ from: z.string().optional(), id: z.string().optional() }).optional(),
    referral: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

const WaStatus = z.object({
  id: z.string(),
  status: z.string(),
  timestamp: z.string(),
  recipient_id: z.string().optional(),
  errors: z
    .array(z.object({ code: z.number(), title: z.string().optional(), message: z.string().optional() }))
    .optional(),
});

const Value = z.object({
  messaging_product: z.literal('whatsapp').optional(),
  metadata: z.object({ phone_number_id: z.string(), display_phone_number: z.string().optional() }),
  contacts: z.array(z.object({ wa_id: z.string(), profile: z.object({ name: z.string() }).optional() })).optional(),
  messages: z.array(WaMessage).optional(),
  statuses: z.array(WaStatus).optional(),
});

const Payload = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

function readPayload(req: RawRequest) {
  const parsed = Payload.safeParse(parseJsonBody(req));
  if (!parsed.success) throw new MalformedPayloadError(`not a WhatsApp webhook: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The `messages` changes of the payload (other fields, such as account updates, carry no messages). */
function messageValues(req: RawRequest) {
  const out: z.infer<typeof Value>[] = [];
  for (const entry of readPayload(req).entry)
    for (const change of entry.changes) {
      if (change.field !== 'messages') continue;
      const value = Value.safeParse(change.value);
      if (!value.success)
        throw new MalformedPayloadError(`malformed messages change: ${value.error.issues[0]?.message}`);
      out.push(value.data);
    }
  return out;
}

/** Every `metadata.phone_number_id` the webhook names. */
export function whatsappAccountIdentifiers(req: RawRequest): string[] {
  return messageValues(req).map((v) => v.metadata.phone_number_id);
}

const at = (unixSeconds: string) => new Date(Number(unixSeconds) * 1000);

function media(m: z.infer<typeof MediaObject> | undefined): Media[] {
  if (!m) return [];
  return [
    {
      id: m.id ?? null,
      url: m.link ?? null,
      mime_type: m.mime_type ?? null,
      filename: m.filename ?? null,
      size: null,
      caption: m.caption ?? null,
    },
  ];
}

function toMessage(phoneNumberId: string, names: Map<string, string>, m: z.infer<typeof WaMessage>): InboundMessage {
  const base: InboundMessage = {
    kind: 'message',
    channel: 'whatsapp',
    account_identifier: phoneNumberId,
    external_id: m.id,
    sender_identifier: m.from,
    sender_name: names.get(m.from) ?? null,
    timestamp: at(m.timestamp),
    type: 'text',
    text: null,
    media: [],
    location: null,
    email: null,
    reply_to_external_id: m.context?.id ?? null,
    extra: {},
  };
  switch (m.type) {
    case 'text':
      return { ...base, text: m.text?.body ?? '' };
    case 'image':
    case 'sticker':
      // Stickers are webp images.
      return {
        ...base,
        type: 'image',
        text: m.image?.caption ?? null,
        media: media(m.image ?? m.sticker),
        extra: m.type === 'sticker' ? { sticker: true } : {},
      };
    case 'document':
      return { ...base, type: 'document', text: m.document?.caption ?? null, media: media(m.document) };
    case 'audio':
      return { ...base, type: 'audio', media: media(m.audio) };
    case 'video':
      return { ...base, type: 'video', text: m.video?.caption ?? null, media: media(m.video) };
    case 'location': {
      const l = m.location;
      if (!l) throw new MalformedPayloadError('location message without location');
      return {
        ...base,
        type: 'location',
        text: l.name ?? l.address ?? null,
        location: { latitude: l.latitude, longitude: l.longitude, name: l.name ?? null, address: l.address ?? null },
      };
    }
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
      return {
        ...base,
        text: reply?.title ?? '',
        extra: { interactive: { type: m.interactive?.type, id: reply?.id } },
      };
    }
    case 'button':
      // A quick-reply button of a template message.
      return { ...base, text: m.button?.text ?? '', extra: { button: { payload: m.button?.payload } } };
    case 'reaction':
      return {
        ...base,
        text: m.reaction?.emoji ? `[reaction ${m.reaction.emoji}]` : '[reaction removed]',
        reply_to_external_id: m.reaction?.message_id ?? null,
        extra: { reaction: m.reaction },
      };
    case 'contacts':
      return { ...base, text: '[shared contact]', extra: { contacts: m.contacts } };
    default:
      // `unsupported`, `system`, `order` and future types: keep the message, say what it was.
      return { ...base, text: `[${m.type} message]`, extra: { unsupported_type: m.type } };
  }
}

const STATUS = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed' } as const;

function toStatus(phoneNumberId: string, s: z.infer<typeof WaStatus>): StatusEvent | null {
  const status = STATUS[s.status as keyof typeof STATUS];
  if (!status) return null; // e.g. `deleted`, `warning`: not a delivery status
  const e = s.errors?.[0];
  return {
    kind: 'status',
    channel: 'whatsapp',
    account_identifier: phoneNumberId,
    external_id: s.id,
    watermark: null,
    recipient_identifier: s.recipient_id ?? null,
    status,
    timestamp: at(s.timestamp),
    error: e ? { code: String(e.code), message: e.message ?? e.title ?? 'failed' } : null,
  };
}

/** Every message and status of the webhook, in order. */
export function parseWhatsApp(req: RawRequest): NormalizedEvent[] {
  const events: NormalizedEvent[] = [];
  for (const value of messageValues(req)) {
    const phoneNumberId = value.metadata.phone_number_id;
    const names = new Map((value.contacts ?? []).filter((c) => c.profile?.name).map((c) => [c.wa_id, c.profile!.name]));
    for (const m of value.messages ?? []) events.push(toMessage(phoneNumberId, names, m));
    for (const s of value.statuses ?? []) {
      const status = toStatus(phoneNumberId, s);
      if (status) events.push(status);
    }
  }
  return events;
}
