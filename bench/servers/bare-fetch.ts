// What both bare media ceilings do to one file, with node:http and node:fs only: the two WhatsApp Cloud API steps
// (`GET /{media-id}` for the URL, then the URL, both with the bearer token), the body hashed (sha256) while written to
// a temporary file in DIR/tmp, then renamed to its content address DIR/ab/abcdef….
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';

const request = (url: string, headers: Record<string, string>) =>
  new Promise<IncomingMessage>((resolve, reject) => {
    get(url, { headers }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
      else resolve(res);
    }).on('error', reject);
  });

export async function fetchFile(graph: string, token: string, mediaId: string, dir: string) {
  const headers = { authorization: `Bearer ${token}` };
  const meta = await request(`${graph}/${mediaId}`, headers);
  let json = '';
  for await (const chunk of meta) json += chunk;
  const { url } = JSON.parse(json) as { url: string };
  const body = await request(url, headers);
  const tmp = join(dir, 'tmp', `${randomUUID()}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const file = createWriteStream(tmp);
  body.on('data', (chunk: Buffer) => {
    size += chunk.length;
    hash.update(chunk);
  });
  await new Promise<void>((resolve, reject) => {
    body.pipe(file).on('finish', resolve).on('error', reject);
    body.on('error', reject);
  });
  const sha256 = hash.digest('hex');
  await mkdir(join(dir, sha256.slice(0, 2)), { recursive: true });
  await rename(tmp, join(dir, sha256.slice(0, 2), sha256));
  return { sha256, size };
}
