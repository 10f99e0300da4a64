/** What the media tests share: a temporary MEDIA_DIR, uploads and downloads over HTTP, sha256 of bytes. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness } from './harness.js';

/** A fresh media directory, removed by the returned function. */
export function tempMediaDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'comms-media-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Bytes that start like a JPEG (the tests never decode them). */
export function jpegBytes(size: number): Buffer {
  const b = randomBytes(size);
  b[0] = 0xff;
  b[1] = 0xd8;
  b[2] = 0xff;
  return b;
}

export async function uploadMedia(
  h: Harness,
  tenant: string,
  bytes: Uint8Array,
  type: string,
  filename = 'file.bin',
  token?: string,
) {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), filename);
  const res = await fetch(`${h.url}/api/v1/tenants/${tenant}/communications/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token ?? h.serviceToken}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function download(h: Harness, path: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
