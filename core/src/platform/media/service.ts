/**
 * Media of one tenant: store a file (limits, allow-list, content address, one row per sha256), find it, show it.
 * The bytes live in the configured backend; the tenant's `media` rows say which files its users may open.
 */
import { rm } from 'node:fs/promises';
import { eq, rawRows, rowFromJson, sql } from '@comms/db';
import type { Config } from '../config.js';
import type { TenantContext } from '../context.js';
import { createFileServiceStore } from './file-service.js';
import { createMediaLinkSigner } from './links.js';
import { createLocalMediaStore } from './local.js';
import { baseMimeType, mimeAllowList } from './policy.js';
import { type MediaBackend, MediaRefusal, type MediaService, spool, tooLarge } from './store.js';

/** The configured store: the File Service when FILE_SERVICE_URL is set, else files under MEDIA_DIR. */
export function createMediaService(config: Config, backend?: MediaBackend): MediaService {
  const store =
    backend ??
    (config.FILE_SERVICE_URL
      ? createFileServiceStore({
          url: config.FILE_SERVICE_URL,
          token: config.FILE_SERVICE_TOKEN ?? '',
          spoolDir: config.MEDIA_DIR,
        })
      : createLocalMediaStore(config.MEDIA_DIR));
  return {
    backend: store,
    links: createMediaLinkSigner(config.ENCRYPTION_KEY, config.PUBLIC_BASE_URL, config.MEDIA_LINK_TTL_SECONDS),
    maxBytes: config.MEDIA_MAX_BYTES,
    isAllowed: mimeAllowList(config.MEDIA_ALLOWED_TYPES),
  };
}

export interface MediaRow {
  id: number;
  sha256: string;
  mimeType: string;
  size: number;
  filename: string | null;
  backend: string;
  storageKey: string;
  createdAt: Date;
}

export interface IncomingFile {
  /** The type the provider or uploader declared (parameters are dropped). */
  mimeType: string | null;
  filename: string | null;
  /** The size announced before the bytes (Content-Length, a provider's file_size): refused early when over. */
  declaredSize?: number | null;
}

/** Refuses a type outside the allow-list or a declared size over the limit, before any byte is read. */
export function checkIncoming(media: MediaService, file: IncomingFile): string {
  const mime = baseMimeType(file.mimeType);
  if (!mime) throw new MediaRefusal('type_not_allowed', 'the file has no valid MIME type');
  if (!media.isAllowed(mime))
    throw new MediaRefusal('type_not_allowed', `files of type ${mime} are not accepted (MEDIA_ALLOWED_TYPES)`);
  if (file.declaredSize != null && file.declaredSize > media.maxBytes)
    throw new MediaRefusal('too_large', tooLarge(media.maxBytes));
  return mime;
}

/**
 * Streams `source` into the store and returns its row: the existing one when the tenant already has these bytes.
 * Throws MediaRefusal for a disallowed type, an oversize or an empty file.
 */
export async function storeMedia(
  ctx: TenantContext,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: IncomingFile,
): Promise<MediaRow> {
  const { media } = ctx;
  const mime = checkIncoming(media, file);
  const spooled = await spool(source, media.backend.spoolDir, media.maxBytes);
  if (spooled.size === 0) {
    await rm(spooled.path, { force: true });
    throw new MediaRefusal('empty', 'the file is empty');
  }
  if (!media.backend.contentAddressed) {
    const existing = await findMediaBySha(ctx, spooled.sha256);
    if (existing) {
      await rm(spooled.path, { force: true });
      return existing;
    }
  }
  const key = await media.backend.keep(spooled, { mimeType: mime, filename: file.filename });
  const [inserted] = await rawRows<{ row: Record<string, unknown> }>(
    ctx.db,
    sql`insert into ${sql.identifier(ctx.tenant.schemaName)}.media as m (sha256, mime_type, size, filename, backend, storage_key)
        values (${spooled.sha256}, ${mime}, ${spooled.size}, ${file.filename}, ${media.backend.kind}, ${key})
        on conflict do nothing
        returning to_jsonb(m.*) as row`,
  );
  // The tenant already had these bytes (stored before, or by another store at the same moment): its row stands.
  return inserted ? rowFromJson(ctx.tenant.tables.media, inserted.row) : (await findMediaBySha(ctx, spooled.sha256))!;
}

export async function findMedia(ctx: TenantContext, id: number): Promise<MediaRow | null> {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2 ** 31 - 1) return null;
  const t = ctx.tenant.tables.media;
  const [row] = await ctx.db.select().from(t).where(eq(t.id, id)).limit(1);
  return row ?? null;
}

async function findMediaBySha(ctx: TenantContext, sha256: string): Promise<MediaRow | null> {
  const [found] = await rawRows<{ row: Record<string, unknown> }>(
    ctx.db,
    sql`select to_jsonb(m.*) as row from ${sql.identifier(ctx.tenant.schemaName)}.media m where m.sha256 = ${sha256}`,
  );
  return found ? rowFromJson(ctx.tenant.tables.media, found.row) : null;
}

/** Where a tenant's users open a file. */
export const mediaPath = (tenant: string, id: number) => `/api/v1/tenants/${tenant}/communications/media/${id}`;

/** The media object the API answers with, and the fields an attachment item gains once its file is stored. */
export function mediaView(tenant: string, row: MediaRow) {
  return {
    id: row.id,
    mime_type: row.mimeType,
    size: row.size,
    sha256: row.sha256,
    filename: row.filename,
    url: mediaPath(tenant, row.id),
    created_at: row.createdAt.toISOString(),
  };
}
export type MediaView = ReturnType<typeof mediaView>;
