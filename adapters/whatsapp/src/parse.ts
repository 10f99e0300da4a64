/**
 * WhatsApp Cloud API webhook → normalized events. Every entry, change, message and status is handled.
 * Payloads: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
 * Components: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 */
import {
  fieldOf,
  GraphId,
  HttpsUrl,
  type InboundMessage,
  Latitude,
  Longitude,
  malformedPayload,
  type Media,
  MimeType,
  type NormalizedEvent,
  ProviderId,
  parseJsonBody,
  type RawRequest,
  readWire,
  ShortText,
  type StatusEvent,
  UnixSecondsText,
} from '@comms/adapter-kit';
import { z } from 'zod';

/*
 * Every value read is validated as the components page documents it (issue 21 point 2): timestamps are Unix seconds
 * in a string of digits, ids are bounded strings, statuses one of the documented values, media links https URLs.
 * A signed webhook with a value outside them is malformed (400), never a failed insert (503).
 */

/** The customer's WhatsApp id (`wa_id`, `from`, `recipient_id`): today the phone number's digits. */
const WaId = ProviderId(64);
/** A message id (`wamid.` and an opaque string). */
const Wamid = ProviderId(512);
/** A lower-case type name (`text`, `button_reply`, …): Meta adds message types, kept as `[type message]`. */
const TypeName = z.string().regex(/^[a-z_]{1,32}$/, 'a type name of lower-case letters and underscores');

const MediaObject = z.object({
  id: ProviderId(256).optional(),
  link: HttpsUrl.optional(),
  mime_type: MimeType.optional(),
  caption: ShortText(4096).optional(),
  filename: ShortText(1024).optional(),
});

const WaMessage = z.object({
  from: WaId,
  id: Wamid,
  timestamp: UnixSecondsText,
  type: TypeName,
  text: z.object({ body: z.string() }).optional(),
  image: MediaObject.optional(),
  document: MediaObject.optional(),
  audio: MediaObject.optional(),
  video: MediaObject.optional(),
  sticker: MediaObject.optional(),
  location: z
    .object({
      latitude: Latitude,
      longitude: Longitude,
      name: ShortText().optional(),
      address: ShortText().optional(),
    })
    .optional(),
  interactive: z
    .object({
      type: TypeName,
      button_reply: z.object({ id: ShortText(256), title: ShortText(256) }).optional(),
      list_reply: z
        .object({ id: ShortText(256), title: ShortText(256), description: ShortText().optional() })
        .optional(),
    })
    .optional(),
  button: z.object({ payload: ShortText(4096).optional(), text: ShortText(4096) }).optional(),
  reaction: z.object({ message_id: Wamid, emoji: ShortText(64).optional() }).optional(),
  contacts: z.array(z.unknown()).max(100).optional(),
  context: z.object({ from: WaId.optional(), id: Wamid.optional() }).optional(),
  referral: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The documented statuses: `deleted` and `warning` are not delivery statuses (skipped); anything else is not a
 * WhatsApp status.
 */
const WaStatus = z.object({
  id: Wamid,
  status: z.enum(['sent', 'delivered', 'read', 'failed', 'deleted', 'warning']),
  timestamp: UnixSecondsText,
  recipient_id: WaId.optional(),
  errors: z
    .array(
      z.object({
        code: z.number().int('an integer error code'),
        title: ShortText().optional(),
        message: ShortText().optional(),
      }),
    )
    .optional(),
});

const Value = z.object({
  messaging_product: z.literal('whatsapp').optional(),
  metadata: z.object({ phone_number_id: GraphId, display_phone_number: ShortText(32).optional() }),
  contacts: z.array(z.object({ wa_id: WaId, profile: z.object({ name: ShortText(256) }).optional() })).optional(),
  messages: z.array(WaMessage).optional(),
  statuses: z.array(WaStatus).optional(),
});
type Value = z.infer<typeof Value>;

const Payload = z.object({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.object({
      id: z.string().optional(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
    }),
  ),
});

/** Only what names the account: read before the signature is checked, so nothing else is judged here. */
const Addressed = z.object({ metadata: z.object({ phone_number_id: GraphId }) });

type Path = (string | number)[];

/** The `messages` changes of the payload (other fields, such as account updates, carry no messages), where they sit. */
function messageChanges(req: RawRequest): { value: unknown; at: Path }[] {
  const payload = readWire(Payload, parseJsonBody(req), 'not a WhatsApp webhook');
  const out: { value: unknown; at: Path }[] = [];
  payload.entry.forEach((entry, i) => {
    entry.changes.forEach((change, j) => {
      if (change.field === 'messages') out.push({ value: change.value, at: ['entry', i, 'changes', j, 'value'] });
    });
  });
  return out;
}

/**
 * Every `metadata.phone_number_id` the webhook names. The rest of the values are judged by parse, after the
 * signature: a signed webhook with a bad value is kept as a rejected receipt.
 */
export function whatsappAccountIdentifiers(req: RawRequest): string[] {
  return messageChanges(req).map(
    ({ value, at }) => readWire(Addressed, value, 'malformed messages change', at).metadata.phone_number_id,
  );
}

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

/** The object a message of its `type` carries (`text`, `image`, …), or a MalformedPayloadError naming it. */
function carried<T>(value: T | undefined, at: Path, type: string): T {
  if (value === undefined)
    throw malformedPayload('malformed messages change', [
      { field: fieldOf([...at, type]), message: `a ${type} message carries its \`${type}\` object` },
    ]);
  return value;
}

function toMessage(
  phoneNumberId: string,
  names: Map<string, string>,
  m: z.infer<typeof WaMessage>,
  at: Path,
): InboundMessage {
  const base: InboundMessage = {
    kind: 'message',
    channel: 'whatsapp',
    account_identifier: phoneNumberId,
    external_id: m.id,
    sender_identifier: m.from,
    sender_name: names.get(m.from) ?? null,
    timestamp: m.timestamp,
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
      return { ...base, text: carried(m.text, at, 'text').body };
    case 'image':
      return { ...base, type: 'image', text: m.image?.caption ?? null, media: media(carried(m.image, at, 'image')) };
    case 'sticker':
      // Stickers are webp images.
      return { ...base, type: 'image', media: media(carried(m.sticker, at, 'sticker')), extra: { sticker: true } };
    case 'document': {
      const doc = carried(m.document, at, 'document');
      return { ...base, type: 'document', text: doc.caption ?? null, media: media(doc) };
    }
    case 'audio':
      return { ...base, type: 'audio', media: media(carried(m.audio, at, 'audio')) };
    case 'video': {
      const video = carried(m.video, at, 'video');
      return { ...base, type: 'video', text: video.caption ?? null, media: media(video) };
    }
    case 'location': {
      const l = carried(m.location, at, 'location');
      return {
        ...base,
        type: 'location',
        text: l.name ?? l.address ?? null,
        location: { latitude: l.latitude, longitude: l.longitude, name: l.name ?? null, address: l.address ?? null },
      };
    }
    case 'interactive': {
      const interactive = carried(m.interactive, at, 'interactive');
      const reply = interactive.button_reply ?? interactive.list_reply;
      return {
        ...base,
        text: reply?.title ?? '',
        extra: { interactive: { type: interactive.type, id: reply?.id } },
      };
    }
    case 'button': {
      // A quick-reply button of a template message.
      const button = carried(m.button, at, 'button');
      return { ...base, text: button.text, extra: { button: { payload: button.payload } } };
    }
    case 'reaction': {
      const reaction = carried(m.reaction, at, 'reaction');
      return {
        ...base,
        text: reaction.emoji ? `[reaction ${reaction.emoji}]` : '[reaction removed]',
        reply_to_external_id: reaction.message_id,
        extra: { reaction },
      };
    }
    case 'contacts':
      return { ...base, text: '[shared contact]', extra: { contacts: m.contacts } };
    default:
      // `unsupported`, `system`, `order` and future types: keep the message, say what it was.
      return { ...base, text: `[${m.type} message]`, extra: { unsupported_type: m.type } };
  }
}

const STATUS = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed' } as const;

function toStatus(phoneNumberId: string, s: z.infer<typeof WaStatus>): StatusEvent | null {
  if (s.status === 'deleted' || s.status === 'warning') return null; // not a delivery status
  const e = s.errors?.[0];
  return {
    kind: 'status',
    channel: 'whatsapp',
    account_identifier: phoneNumberId,
    external_id: s.id,
    watermark: null,
    recipient_identifier: s.recipient_id ?? null,
    status: STATUS[s.status],
    timestamp: s.timestamp,
    error: e ? { code: String(e.code), message: e.message ?? e.title ?? 'failed' } : null,
  };
}

/** Every message and status of the webhook, in order; every value checked (MalformedPayloadError names the field). */
export function parseWhatsApp(req: RawRequest): NormalizedEvent[] {
  const events: NormalizedEvent[] = [];
  for (const change of messageChanges(req)) {
    const value: Value = readWire(Value, change.value, 'malformed messages change', change.at);
    const phoneNumberId = value.metadata.phone_number_id;
    const names = new Map((value.contacts ?? []).filter((c) => c.profile?.name).map((c) => [c.wa_id, c.profile!.name]));
    for (const [i, m] of (value.messages ?? []).entries())
      events.push(toMessage(phoneNumberId, names, m, [...change.at, 'messages', i]));
    for (const s of value.statuses ?? []) {
      const status = toStatus(phoneNumberId, s);
      if (status) events.push(status);
    }
  }
  return events;
}
