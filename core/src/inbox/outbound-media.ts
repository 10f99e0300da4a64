/**
 * Agents' files on outbound messages (issue 14): what each provider takes, checked when the reply is accepted (a
 * 422 naming the provider's limit, before anything is queued), and how the worker hands the file over — a signed,
 * expiring public link for the providers that fetch it (WhatsApp and Messenger by link, Twilio's MediaUrl), the
 * bytes as a MIME attachment for email.
 */
import type { Channel, MessageType, OutboundMessage } from '@comms/adapter-kit';
import type { TenantContext } from '../platform/context.js';
import { AppError } from '../platform/errors.js';
import { findMedia, type MediaRow } from '../platform/media/service.js';
import { storedFields } from './media-items.js';

const MB = 1024 * 1024;

interface ProviderLimit {
  /** The largest file for this type, or null when the provider does not take the type. */
  maxBytes(mime: string): number | null;
  /** Where the limits are documented. */
  source: string;
}

const WHATSAPP: ProviderLimit = {
  // https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
  maxBytes(mime) {
    if (mime === 'image/jpeg' || mime === 'image/png') return 5 * MB;
    if (mime === 'image/webp') return 500 * 1024;
    if (/^audio\/(aac|amr|mpeg|mp4|ogg)$/.test(mime)) return 16 * MB;
    if (mime === 'video/mp4' || mime === 'video/3gpp') return 16 * MB;
    if (/^(application|text)\//.test(mime)) return 100 * MB;
    return null;
  },
  source: 'WhatsApp Cloud API supported media types',
};

const PROVIDER_LIMITS: Record<Channel, ProviderLimit> = {
  whatsapp: WHATSAPP,
  twilio_whatsapp: { ...WHATSAPP, source: 'Twilio WhatsApp supported media (WhatsApp Cloud API limits)' },
  // https://developers.facebook.com/docs/messenger-platform/send-messages#sending_attachments (25 MB)
  messenger: { maxBytes: () => 25 * MB, source: 'Messenger Send API attachments' },
  instagram: {
    // https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/messaging-api
    maxBytes: (mime) => (/^image\//.test(mime) ? 8 * MB : /^(audio|video)\//.test(mime) ? 25 * MB : null),
    source: 'Instagram Messaging API attachments',
  },
  // https://www.twilio.com/docs/messaging/guides/accepted-mime-types (5 MB per MMS)
  sms: {
    maxBytes: (mime) =>
      /^(image|audio|video)\//.test(mime) || /^(application\/pdf|text\/)/.test(mime) ? 5 * MB : null,
    source: 'Twilio MMS accepted media (5 MB per message)',
  },
  // SendGrid takes 30 MB per message, base64 included: about 20 MB of file.
  // https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
  email: { maxBytes: () => 20 * MB, source: 'SendGrid Mail Send (30 MB per message, encoded)' },
};

/** Refuses a file the conversation's provider would refuse (type or size), with a 422 that names its limit. */
export function checkProviderAccepts(channel: Channel, media: MediaRow): void {
  const limit = PROVIDER_LIMITS[channel];
  const max = limit.maxBytes(media.mimeType);
  if (max === null)
    throw new AppError(
      'unprocessable',
      `${channel} does not accept files of type ${media.mimeType} (${limit.source})`,
      {
        errors: [{ field: 'media_id', message: `type ${media.mimeType} not accepted by ${channel}` }],
      },
    );
  if (media.size > max)
    throw new AppError(
      'unprocessable',
      `${channel} accepts ${media.mimeType} files of at most ${max} bytes; this one has ${media.size} (${limit.source})`,
      { errors: [{ field: 'media_id', message: `larger than ${channel}'s limit of ${max} bytes` }] },
    );
}

/** The message type a file makes. */
export function messageTypeOf(mime: string): MessageType {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('video/')) return 'video';
  return 'document';
}

/** The attachment item an outbound file is stored as (the shared contract's fields). */
export function outboundAttachment(tenant: string, media: MediaRow) {
  return { ...storedFields(tenant, media), filename: media.filename, size: media.size };
}

/**
 * The file of an outbound message as its provider takes it: `media_url` a signed public link, or (email) the bytes
 * as an attachment. Messages without a stored file are left as they are.
 */
export async function withOutboundMedia(
  ctx: TenantContext,
  channel: Channel,
  attachments: Record<string, unknown>[],
  message: OutboundMessage,
): Promise<OutboundMessage> {
  const files = attachments.filter((a) => a.status === 'stored' && typeof a.id === 'number');
  if (!files.length) return message;
  if (channel !== 'email')
    return { ...message, media_url: ctx.media.links.link(ctx.tenant.slug, files[0]!.id as number) };
  const out: NonNullable<OutboundMessage['attachments']> = [];
  for (const file of files) {
    const stream = await ctx.media.backend.open(await storageKeyOf(ctx, file.id as number));
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    out.push({
      filename: String(file.filename ?? `attachment-${file.id}`),
      type: String(file.mime_type ?? 'application/octet-stream'),
      content_base64: Buffer.concat(chunks).toString('base64'),
    });
  }
  return { ...message, attachments: out };
}

async function storageKeyOf(ctx: TenantContext, id: number): Promise<string> {
  const row = await findMedia(ctx, id);
  if (!row) throw new AppError('not_found', `media ${id} not found`);
  return row.storageKey;
}
