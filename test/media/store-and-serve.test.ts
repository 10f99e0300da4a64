// The media store behind the API, on both backends: local files under MEDIA_DIR, and the platform's File Service
// (a fake on loopback speaking docs/adr/0007-media-store.md). Uploads, downloads byte-identical, tenants apart,
// ETag, ranges, limits, the allow-list, and the same bytes stored once.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeFileService, type FakeFileService } from '../support/fake-file-service.js';
import { api, type Harness, startApi } from '../support/harness.js';
import { download, jpegBytes, sha256, tempMediaDir, uploadMedia } from '../support/media.js';

const MAX = 256 * 1024;

function suite(name: string, setup: () => Promise<{ h: Harness; fileService: FakeFileService | null; dir: string }>) {
  describe(name, () => {
    let h: Harness;
    let fileService: FakeFileService | null;
    let dir: string;
    let tenant: string;
    let other: string;
    let userToken: string;
    beforeAll(async () => {
      ({ h, fileService, dir } = await setup());
      tenant = await h.createTenant('media');
      other = await h.createTenant('media');
      userToken = await h.token({ tenant });
    });
    afterAll(async () => {
      await h.close();
      await fileService?.close();
    });

    it('stores an upload and serves it byte-identical to a user of the tenant, 404 to another tenant', async () => {
      const bytes = jpegBytes(100_000);
      const up = await uploadMedia(h, tenant, bytes, 'image/jpeg', 'passport.jpg', userToken);
      expect(up.status).toBe(201);
      expect(up.body).toMatchObject({
        mime_type: 'image/jpeg',
        size: bytes.length,
        sha256: sha256(bytes),
        filename: 'passport.jpg',
        url: api(tenant, `/media/${up.body.id}`),
      });
      const got = await download(h, up.body.url, userToken);
      expect(got.status).toBe(200);
      expect(sha256(got.bytes)).toBe(sha256(bytes));
      expect(got.headers.get('content-type')).toBe('image/jpeg');
      expect(got.headers.get('content-length')).toBe(String(bytes.length));
      expect(got.headers.get('content-disposition')).toMatch(/^inline; filename="passport.jpg"/);
      expect(got.headers.get('cache-control')).toMatch(/^private/);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('etag')).toBe(`"${sha256(bytes)}"`);

      // The same id in another tenant is another tenant's (absent) row; a token of this tenant there is refused.
      const otherToken = await h.token({ tenant: other });
      expect((await download(h, api(other, `/media/${up.body.id}`), otherToken)).status).toBe(404);
      expect((await download(h, api(tenant, `/media/${up.body.id}`), otherToken)).status).toBe(403);
      expect((await download(h, api(tenant, `/media/${up.body.id + 1000}`), userToken)).status).toBe(404);
      const anonymous = await fetch(`${h.url}${up.body.url}`);
      expect(anonymous.status).toBe(401);
    });

    it('answers ranges (206, 416) and If-None-Match (304)', async () => {
      const bytes = jpegBytes(10_000);
      const { body } = await uploadMedia(h, tenant, bytes, 'image/png', 'p.png');
      const part = await download(h, body.url, userToken, { range: 'bytes=100-199' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
      expect(part.headers.get('content-length')).toBe('100');
      expect(part.bytes.equals(bytes.subarray(100, 200))).toBe(true);
      const tail = await download(h, body.url, userToken, { range: 'bytes=-50' });
      expect(tail.status).toBe(206);
      expect(tail.bytes.equals(bytes.subarray(bytes.length - 50))).toBe(true);
      const open = await download(h, body.url, userToken, { range: 'bytes=9990-' });
      expect(open.bytes.equals(bytes.subarray(9990))).toBe(true);
      const outside = await download(h, body.url, userToken, { range: 'bytes=20000-20010' });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      expect(outside.headers.get('content-type')).toBe('application/problem+json');
      const cached = await download(h, body.url, userToken, { 'if-none-match': `"${sha256(bytes)}"` });
      expect(cached.status).toBe(304);
      expect(cached.bytes.length).toBe(0);
    });

    it('never renders a document inline: text is an attachment, and its name is sanitized', async () => {
      const { body } = await uploadMedia(
        h,
        tenant,
        Buffer.from('<html><script>alert(1)</script>'),
        'text/plain',
        '../../x"y\r\n.txt',
      );
      expect(body.filename).not.toMatch(/[\r\n]/);
      const got = await download(h, body.url, userToken);
      expect(got.headers.get('content-type')).toBe('text/plain');
      const disposition = got.headers.get('content-disposition')!;
      expect(disposition).toMatch(/^attachment; filename="/);
      expect(disposition).not.toMatch(/\.\.\/|[\r\n]/);
      expect(got.headers.get('content-security-policy')).toContain('sandbox');
    });

    it('refuses a disallowed type (415) and a file over MEDIA_MAX_BYTES (413), storing nothing', async () => {
      const html = await uploadMedia(h, tenant, Buffer.from('<html></html>'), 'text/html', 'page.html');
      expect(html.status).toBe(415);
      expect(html.body.detail).toMatch(/text\/html/);
      const big = await uploadMedia(h, tenant, jpegBytes(MAX + 1), 'image/jpeg', 'big.jpg');
      expect(big.status).toBe(413);
      expect(big.body.detail).toMatch(/MEDIA_MAX_BYTES|limit/);
      const notMultipart = await h.request('POST', api(tenant, '/media'), { body: { file: 'x' } });
      expect(notMultipart.status).toBe(415);
    });

    it('chat messages attach uploaded files by media id; an unknown id is 422', async () => {
      const bytes = jpegBytes(3_000);
      const up = await uploadMedia(h, tenant, bytes, 'image/jpeg', 'room.jpg', userToken);
      const channel = await h.request('POST', api(tenant, '/channels'), {
        token: userToken,
        body: { name: `media ${Date.now()}`, type: 'public' },
      });
      expect(channel.status).toBe(201);
      const posted = await h.request('POST', api(tenant, `/chat/channels/${channel.body.id}/messages`), {
        token: userToken,
        body: { content: 'the room', media_ids: [up.body.id] },
      });
      expect(posted.status).toBe(201);
      expect(posted.body.attachments).toEqual([
        {
          file_id: String(up.body.id),
          url: up.body.url,
          name: 'room.jpg',
          size: bytes.length,
          mime_type: 'image/jpeg',
          id: up.body.id,
          sha256: sha256(bytes),
          filename: 'room.jpg',
          status: 'stored',
        },
      ]);
      const missing = await h.request('POST', api(tenant, `/chat/channels/${channel.body.id}/messages`), {
        token: userToken,
        body: { media_ids: [up.body.id + 1000] },
      });
      expect(missing.status).toBe(422);
    });

    it('stores the same bytes once: same id, one file', async () => {
      const bytes = jpegBytes(5_000);
      const a = await uploadMedia(h, tenant, bytes, 'image/jpeg', 'a.jpg');
      const b = await uploadMedia(h, tenant, bytes, 'image/jpeg', 'b.jpg');
      expect(b.status).toBe(201);
      expect(b.body.id).toBe(a.body.id);
      if (fileService) {
        expect([...fileService.files.values()].filter((f) => f.sha256 === sha256(bytes))).toHaveLength(1);
      } else {
        const digest = sha256(bytes);
        expect(readdirSync(join(dir, digest.slice(0, 2)))).toEqual([digest]);
      }
    });
  });
}

suite('local store', async () => {
  const media = tempMediaDir();
  const h = await startApi({ env: { MEDIA_DIR: media.dir, MEDIA_MAX_BYTES: String(MAX) } });
  const close = h.close.bind(h);
  h.close = async () => {
    await close();
    media.remove();
  };
  return { h, fileService: null, dir: media.dir };
});

suite('File Service backend', async () => {
  const media = tempMediaDir();
  const fileService = await startFakeFileService();
  const h = await startApi({
    env: {
      MEDIA_DIR: media.dir,
      MEDIA_MAX_BYTES: String(MAX),
      FILE_SERVICE_URL: fileService.url,
      FILE_SERVICE_TOKEN: fileService.token,
    },
  });
  const close = h.close.bind(h);
  h.close = async () => {
    await close();
    media.remove();
  };
  return { h, fileService, dir: media.dir };
});
