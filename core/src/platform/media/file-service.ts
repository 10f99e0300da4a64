/**
 * The platform's File Service as the media store (docs/adr/0007-media-store.md has the contract):
 *   POST {FILE_SERVICE_URL}/files             multipart/form-data, one part `file` (filename, Content-Type), and a
 *                                             `sha256` field; Authorization: Bearer FILE_SERVICE_TOKEN.
 *                                             201 {"id": "…", "download_url": "…", "size": n, "sha256": "…"}
 *   GET  {FILE_SERVICE_URL}/files/{id}/content  the bytes; honours Range (206); 404 when gone.
 * The upload streams from the spooled file with a known Content-Length; nothing is held whole in memory.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { type ByteRange, type MediaBackend, MediaMissingError, type Spooled } from './store.js';

export interface FileServiceOptions {
  url: string;
  token: string;
  /** Where files are spooled before the upload. */
  spoolDir: string;
  timeoutMs?: number;
}

/** Transient or not: the caller (a job, a request) decides whether to retry. */
export class FileServiceError extends Error {
  override name = 'FileServiceError';
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

const quoted = (s: string) => s.replace(/["\\\r\n]/g, '_');

export function createFileServiceStore(options: FileServiceOptions): MediaBackend {
  const base = options.url.replace(/\/$/, '');
  const auth = { authorization: `Bearer ${options.token}` };
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    kind: 'file-service',
    contentAddressed: false,
    spoolDir: resolve(join(options.spoolDir, 'tmp')),
    async keep(file: Spooled, meta) {
      const boundary = `----media${randomUUID()}`;
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="sha256"\r\n\r\n${file.sha256}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(meta.filename ?? file.sha256)}"\r\n` +
          `Content-Type: ${meta.mimeType}\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      async function* body() {
        yield head;
        yield* createReadStream(file.path);
        yield tail;
      }
      try {
        const res = await fetch(`${base}/files`, {
          method: 'POST',
          headers: {
            ...auth,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(head.length + file.size + tail.length),
          },
          body: Readable.toWeb(Readable.from(body())) as ReadableStream<Uint8Array>,
          duplex: 'half',
          signal: AbortSignal.timeout(timeoutMs),
        } as RequestInit);
        const text = await res.text();
        if (!res.ok) throw new FileServiceError(`the File Service answered ${res.status} to an upload`, res.status);
        const id = (JSON.parse(text) as { id?: unknown }).id;
        if (typeof id !== 'string' && typeof id !== 'number')
          throw new FileServiceError('the File Service answered an upload without an id', res.status);
        return String(id);
      } finally {
        await rm(file.path, { force: true });
      }
    },
    async open(key: string, range?: ByteRange) {
      const res = await fetch(`${base}/files/${encodeURIComponent(key)}/content`, {
        headers: { ...auth, ...(range ? { range: `bytes=${range.start}-${range.end}` } : {}) },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 404 || res.status === 410) {
        await res.body?.cancel();
        throw new MediaMissingError(`the File Service has no file ${key}`);
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw new FileServiceError(`the File Service answered ${res.status} to a download`, res.status);
      }
      const stream = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      // A File Service that ignores Range sends the whole file: we cut the range out ourselves.
      if (range && res.status === 200) return sliceStream(stream, range);
      return stream;
    },
  };
}

function sliceStream(source: Readable, range: ByteRange): Readable {
  async function* slice() {
    let offset = 0;
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const from = Math.max(range.start - offset, 0);
      const to = Math.min(range.end + 1 - offset, chunk.length);
      if (to > from) yield chunk.subarray(from, to);
      offset += chunk.length;
      if (offset > range.end) break;
    }
    source.destroy();
  }
  return Readable.from(slice());
}
