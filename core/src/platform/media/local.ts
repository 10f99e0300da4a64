/**
 * The local media store: files under MEDIA_DIR, named by their sha256 (`ab/abcdef…`), so the same bytes are kept
 * once whichever tenant or message sends them. Rows in each tenant's `media` table say who may open them.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type ByteRange, type MediaBackend, MediaMissingError, type Spooled } from './store.js';

const SHA256 = /^[0-9a-f]{64}$/;

export function createLocalMediaStore(dir: string): MediaBackend {
  const root = resolve(dir);
  const pathOf = (key: string) => {
    // Keys come from our own rows; checked anyway so no key can name a path outside the store.
    if (!SHA256.test(key)) throw new MediaMissingError('not a local media key');
    return join(root, key.slice(0, 2), key);
  };
  return {
    kind: 'local',
    contentAddressed: true,
    spoolDir: join(root, 'tmp'),
    async keep(file: Spooled) {
      const target = pathOf(file.sha256);
      // Same filesystem (the spool is under the root): an atomic rename, never a half-written file in place. A
      // file already there has the same bytes (its name is their sha256) and is replaced by an identical one; the
      // shard directory is made the first time it is missing.
      await rename(file.path, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await mkdir(join(root, file.sha256.slice(0, 2)), { recursive: true });
        await rename(file.path, target);
      });
      return file.sha256;
    },
    async open(key: string, range?: ByteRange): Promise<Readable> {
      const path = pathOf(key);
      const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
      await new Promise<void>((ok, fail) => {
        stream.once('open', () => ok());
        stream.once('error', (err) => fail(new MediaMissingError(`media file missing: ${String(err)}`)));
      });
      return stream;
    },
  };
}
