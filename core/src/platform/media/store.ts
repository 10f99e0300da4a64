/**
 * The media store's contract (issue 14): one interface, two backends (the local disk, the platform's File Service).
 * Every file is first spooled to a temporary file while its sha256 and size are counted, so nothing is ever held
 * whole in memory and a file over the limit is cut off as soon as it passes it; then the backend keeps it under its
 * content address.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MediaLinkSigner } from './links.js';

/** A file spooled to disk: where, its sha256 (hex) and its size in bytes. */
export interface Spooled {
  path: string;
  sha256: string;
  size: number;
}

/** A byte range, both ends inclusive (HTTP's `bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface MediaBackend {
  readonly kind: 'local' | 'file-service';
  /**
   * Files are named by their sha256, so keeping bytes the store already holds only replaces a file with an identical
   * one: a new file is then kept before its row is looked up, saving a query. Otherwise (the File Service) the
   * tenant's row is looked up first, so the same bytes are never uploaded twice.
   */
  readonly contentAddressed: boolean;
  /** Keeps a spooled file (the temporary file is moved or removed); returns the key to open it by. */
  keep(file: Spooled, meta: { mimeType: string; filename: string | null }): Promise<string>;
  /** The stored bytes, whole or one range. Throws MediaMissingError when the backend no longer has them. */
  open(key: string, range?: ByteRange): Promise<Readable>;
  /** Where temporary files are spooled. */
  readonly spoolDir: string;
}

/** The configured store, its limits and its link signer: what every tenant context carries. */
export interface MediaService {
  backend: MediaBackend;
  /** Signed public links for providers that fetch files themselves. */
  links: MediaLinkSigner;
  maxBytes: number;
  isAllowed(mime: string): boolean;
}

/** Why a file was not stored: recorded on the attachment item (`status: rejected`) or answered 413/415/422. */
export class MediaRefusal extends Error {
  override name = 'MediaRefusal';
  constructor(
    readonly reason: 'too_large' | 'type_not_allowed' | 'empty',
    message: string,
  ) {
    super(message);
  }
}

/** The backend has no file under a key a row names. */
export class MediaMissingError extends Error {
  override name = 'MediaMissingError';
}

/**
 * Writes `source` to a new file in `dir`, counting sha256 and size; past `maxBytes` it stops reading, removes the
 * partial file and throws MediaRefusal('too_large').
 */
export async function spool(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  dir: string,
  maxBytes: number,
): Promise<Spooled> {
  const path = join(dir, `${randomUUID()}.part`);
  // The directory is made when it is missing, not checked before every file.
  const file = await open(path, 'wx').catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dir, { recursive: true });
    return open(path, 'wx');
  });
  const hash = createHash('sha256');
  let size = 0;
  // A transform stream rather than an async generator: no promise per chunk.
  const counted = new Transform({
    transform(chunk: Uint8Array, _encoding, next) {
      size += chunk.length;
      if (size > maxBytes) return next(new MediaRefusal('too_large', tooLarge(maxBytes)));
      hash.update(chunk);
      next(null, chunk);
    },
  });
  try {
    await pipeline(source, counted, file.createWriteStream());
  } catch (err) {
    await file.close().catch(() => {});
    await rm(path, { force: true });
    throw err;
  }
  return { path, sha256: hash.digest('hex'), size };
}

export const tooLarge = (maxBytes: number) =>
  `the file is larger than the media size limit of ${maxBytes} bytes (MEDIA_MAX_BYTES)`;
