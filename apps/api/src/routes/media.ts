/**
 * Media (issue 14): agents upload files (multipart, streamed to the store) and open every file of their tenant:
 * inbound media, email attachments, uploads. Downloads carry ETag, ranges, `Cache-Control: private`, and never
 * render as a page of our origin (nosniff, `attachment` for everything but images, audio, video and PDF, a CSP
 * sandbox).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  AppError,
  contentDisposition,
  defaultFilename,
  FileServiceError,
  findMedia,
  MediaMissingError,
  MediaRefusal,
  type MediaRow,
  mediaView,
  safeFilename,
  storeMedia,
  type Runtime,
  type TenantContext,
} from '@comms/core/platform';
import { createRoute, z } from '@hono/zod-openapi';
import Busboy from 'busboy';
import type { Context } from 'hono';
import { router } from '../lib/env.js';
import { bearer, IdParam, jsonResponse, problems, TenantParam, Timestamp } from '../lib/openapi.js';
import { problemResponse } from '../lib/problem.js';
import { parseRange } from './media-range.js';

export const Media = z
  .object({
    id: z.number().int(),
    mime_type: z.string(),
    size: z.number().int(),
    sha256: z.string(),
    filename: z.string().nullable(),
    url: z.string().openapi({ description: 'Where the tenant’s users download it (GET, bearer token)' }),
    created_at: Timestamp,
  })
  .openapi('Media');

const tags = ['media'];
const base = '/api/v1/tenants/{tenant}/communications/media';
/** The upload path, which takes bodies up to MEDIA_MAX_BYTES rather than API_BODY_LIMIT. */
export const MEDIA_UPLOAD_PATH = /^\/api\/v1\/tenants\/[^/]+\/communications\/media\/?$/;
/** Multipart framing and the other fields a client may send beside the file. */
const MULTIPART_OVERHEAD = 64 * 1024;

const binary = (description: string) => ({
  content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
  description,
});

export const mediaRoutes = router();

mediaRoutes
  .openapi(
    createRoute({
      method: 'get',
      path: `${base}/{id}`,
      operationId: 'downloadMedia',
      tags,
      security: bearer,
      summary: 'Download a file of the tenant (ranges, ETag)',
      description:
        'Streams the file with its Content-Type, Content-Length, Content-Disposition, ETag and Cache-Control: private. ' +
        'Honours `Range: bytes=…` (206, or 416 when unsatisfiable) and `If-None-Match` (304).',
      request: { params: IdParam },
      responses: {
        200: binary('The file'),
        206: binary('The requested byte range'),
        304: { description: 'Not modified (If-None-Match)' },
        ...problems(404, 416, 503),
      },
    }),
    async (c) => serve(c, c.get('ctx'), c.req.valid('param').id) as never,
  )
  .post('/api/v1/tenants/:tenant/communications/media', async (c) => upload(c, c.get('ctx')));

// The upload is read as a stream, so its route is registered for the document only (a validator would buffer it).
mediaRoutes.openAPIRegistry.registerPath({
  method: 'post',
  path: base,
  operationId: 'uploadMedia',
  tags,
  security: bearer,
  summary: 'Upload a file (multipart/form-data, part `file`); answers the media object',
  description:
    'The file is streamed to the media store, never held whole in memory. At most MEDIA_MAX_BYTES (413), of a type ' +
    'on the allow-list (415). The same bytes uploaded twice are stored once and answer the same id.',
  request: {
    params: TenantParam,
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: z.object({ file: z.string().openapi({ format: 'binary', description: 'The file, with its type' }) }),
        },
      },
    },
  },
  responses: { 201: jsonResponse(Media, 'The stored file'), ...problems(404, 413, 415) },
});

/**
 * `GET /media-links/{tenant}/{id}?expires=…&signature=…`: one file, without a bearer token, for a provider that
 * fetches it (Twilio's MediaUrl, WhatsApp and Messenger by link). The link is signed and expires
 * (MEDIA_LINK_TTL_SECONDS); anything else is 404, so a guessed id learns nothing.
 */
export function mediaLinkRoutes(runtime: Runtime) {
  const app = router();
  app.get('/media-links/:tenant/:id', async (c) => {
    const { tenant: slug, id: rawId } = c.req.param();
    const id = /^\d{1,10}$/.test(rawId) ? Number(rawId) : 0;
    const valid = id > 0 && runtime.media.links.verify(slug, id, c.req.query('expires'), c.req.query('signature'));
    if (!valid) return problemResponse(404, 'no such media link, or it has expired');
    const tenant = await runtime.tenants.resolve(slug);
    return serve(c, runtime.context(tenant, { log: runtime.log.child({ tenant: slug, media_link: id }) }), id);
  });
  return app;
}

async function serve(c: Context, ctx: TenantContext, id: number): Promise<Response> {
  const row = await findMedia(ctx, id);
  if (!row) throw new AppError('not_found', `media ${id} not found`);
  const etag = `"${row.sha256}"`;
  const headers: Record<string, string> = {
    'content-type': row.mimeType,
    'content-disposition': contentDisposition(
      row.mimeType,
      safeFilename(row.filename, defaultFilename(row.id, row.mimeType)),
    ),
    etag,
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=86400',
    'x-content-type-options': 'nosniff',
    // Opened directly in a browser, a file can run nothing and reach nothing of ours.
    'content-security-policy': "default-src 'none'; sandbox",
  };
  if (matches(c.req.header('if-none-match'), etag)) return new Response(null, { status: 304, headers: { etag } });

  const rangeHeader = c.req.header('range');
  const ifRange = c.req.header('if-range');
  const range = rangeHeader && (!ifRange || ifRange === etag) ? parseRange(rangeHeader, row.size) : null;
  if (range === 'unsatisfiable')
    return problemResponse(416, `the range is outside the file's ${row.size} bytes`, undefined, {
      'content-range': `bytes */${row.size}`,
    });
  const stream = await open(ctx, row, range ?? undefined);
  const body = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${row.size}`;
    headers['content-length'] = String(range.end - range.start + 1);
    return new Response(body, { status: 206, headers });
  }
  headers['content-length'] = String(row.size);
  return new Response(body, { status: 200, headers });
}

async function open(ctx: TenantContext, row: MediaRow, range?: { start: number; end: number }) {
  try {
    return await ctx.media.backend.open(row.storageKey, range);
  } catch (err) {
    if (err instanceof MediaMissingError) {
      ctx.log.error({ media_id: row.id }, 'a media row names a file the store does not have');
      throw new AppError('not_found', `the file of media ${row.id} is no longer in the store`);
    }
    if (err instanceof FileServiceError || (err instanceof Error && err.name === 'TimeoutError'))
      throw new AppError('unavailable', 'the file store is unavailable; retry later', { retryAfterSeconds: 5 });
    throw err;
  }
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** Reads the multipart body with busboy, straight from Node's request when served by @hono/node-server. */
async function upload(c: Context, ctx: TenantContext): Promise<Response> {
  const type = c.req.header('content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type))
    return problemResponse(415, 'upload a file as multipart/form-data, in a part named `file`');
  const max = ctx.media.maxBytes;
  if (Number(c.req.header('content-length') ?? 0) > max + MULTIPART_OVERHEAD)
    return problemResponse(413, `the file is larger than the media size limit of ${max} bytes`);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const source =
    incoming && !incoming.readableDidRead
      ? incoming
      : c.req.raw.body
        ? Readable.fromWeb(c.req.raw.body as import('node:stream/web').ReadableStream<Uint8Array>)
        : null;
  if (!source) return problemResponse(400, 'the body is empty: upload a file in a part named `file`');

  let parser: Busboy.Busboy;
  try {
    parser = Busboy({ headers: { 'content-type': type }, limits: { files: 1, fields: 20, fieldSize: 4096 } });
  } catch {
    return problemResponse(400, 'the multipart body has no valid boundary');
  }
  const stored = new Promise<MediaRow | null>((resolve, reject) => {
    let file: Promise<MediaRow> | null = null;
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        return;
      }
      // Settles the request as soon as the file is stored or refused (type, size), whatever follows it.
      file = storeMedia(ctx, stream, { mimeType: info.mimeType, filename: info.filename ?? null });
      file.then(resolve, (err) => {
        stream.resume();
        reject(err);
      });
    });
    parser.on('error', (err) => reject(new AppError('bad_request', `the multipart body is malformed: ${String(err)}`)));
    parser.on('close', () => {
      if (!file) resolve(null);
    });
  });
  source.pipe(parser);
  let row: MediaRow | null;
  try {
    row = await stored;
  } catch (err) {
    source.unpipe(parser);
    source.resume();
    if (err instanceof MediaRefusal)
      return problemResponse(err.reason === 'too_large' ? 413 : err.reason === 'empty' ? 400 : 415, err.message);
    throw err;
  }
  if (!row) return problemResponse(400, 'no file in the body: upload it in a multipart part named `file`');
  return c.json(mediaView(ctx.tenant.slug, row), 201);
}
