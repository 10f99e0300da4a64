// A 20 MiB multipart upload streams to the store. The client pauses halfway: by then the API must have written
// that half to the store's spool file, so it is not holding the body to store it whole. (The process's RSS is not
// asserted here: client and server share this process, and the garbage of both — collected later — dwarfs what
// is held; measured at 40-50 MB here, it says nothing about buffering either way.) The body is generated as sent.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, type Harness, startApi } from '../support/harness.js';
import { download, tempMediaDir } from '../support/media.js';

const SIZE = 20 * 1024 * 1024;
const CHUNK = 64 * 1024;
let h: Harness;
let media: ReturnType<typeof tempMediaDir>;

beforeAll(async () => {
  media = tempMediaDir();
  h = await startApi({ env: { MEDIA_DIR: media.dir } });
});
afterAll(async () => {
  await h.close();
  media.remove();
});

it('streams a 20 MiB upload to the store as it arrives', async () => {
  const tenant = await h.createTenant('stream');
  const boundary = '----streaming-test-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(CHUNK);
  let sent = 0;
  let resume: () => void = () => {};
  const halfway = new Promise<void>((r) => {
    resume = r;
  });
  let paused = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    async pull(controller) {
      if (sent === SIZE / 2 && !paused) {
        paused = true;
        await halfway;
      }
      if (sent >= SIZE) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      // Different bytes in every chunk, so nothing is deduplicated or compressed away.
      chunk.writeUInt32BE(sent / CHUNK, 0);
      const copy = Buffer.from(chunk);
      hash.update(copy);
      sent += CHUNK;
      controller.enqueue(copy);
    },
  });

  const response = fetch(`${h.url}${api(tenant, '/media')}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.serviceToken}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + SIZE + tail.length),
    },
    body,
    duplex: 'half',
  } as RequestInit);
  // Halfway: the API has spooled (nearly) all it was sent, without the rest of the body.
  const spooled = () => {
    const dir = join(media.dir, 'tmp');
    try {
      return Math.max(0, ...readdirSync(dir).map((f) => statSync(join(dir, f)).size));
    } catch {
      return 0;
    }
  };
  const until = Date.now() + 20_000;
  while (spooled() < SIZE / 2 - 1024 * 1024 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(spooled()).toBeGreaterThan(SIZE / 2 - 1024 * 1024);
  resume();
  const res = await response;
  const stored = (await res.json()) as { url: string };
  expect(res.status).toBe(201);
  expect(stored).toMatchObject({ size: SIZE, sha256: hash.digest('hex'), mime_type: 'video/mp4' });

  const part = await download(h, stored.url, h.serviceToken, { range: `bytes=${SIZE - 10}-` });
  expect(part.status).toBe(206);
  expect(part.bytes.length).toBe(10);
});
