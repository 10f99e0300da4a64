/**
 * A fake of the platform's File Service on loopback, speaking the contract in docs/adr/0007-media-store.md:
 * `POST /files` (multipart, part `file`, field `sha256`, Bearer token) → 201 {id, download_url, size, sha256};
 * `GET /files/{id}/content` → the bytes, with Range (206). Records every request.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeFileService {
  url: string;
  token: string;
  files: Map<string, { bytes: Buffer; type: string; filename: string; sha256: string }>;
  requests: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeFileService(token = 'file-service-token'): Promise<FakeFileService> {
  const files: FakeFileService['files'] = new Map();
  const requests: FakeFileService['requests'] = [];
  let next = 1;
  const server = createServer(async (req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return json(401, { error: 'unauthorized' });
    if (req.method === 'POST' && req.url === '/files') {
      const form = await new Response(await bodyOf(req), {
        headers: { 'content-type': req.headers['content-type'] ?? '' },
      }).formData();
      const file = form.get('file');
      if (!(file instanceof File)) return json(400, { error: 'no file part' });
      const bytes = Buffer.from(await file.arrayBuffer());
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (form.get('sha256') !== sha256) return json(422, { error: 'sha256 does not match' });
      const id = `fs_${next++}`;
      files.set(id, { bytes, type: file.type, filename: file.name, sha256 });
      return json(201, { id, download_url: `${url}/files/${id}/content`, size: bytes.length, sha256 });
    }
    const m = /^\/files\/([^/]+)\/content$/.exec(req.url ?? '');
    if (req.method === 'GET' && m) {
      const f = files.get(decodeURIComponent(m[1]!));
      if (!f) return json(404, { error: 'not found' });
      const r = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (r) {
        const start = Number(r[1]);
        const end = Math.min(Number(r[2]), f.bytes.length - 1);
        res.writeHead(206, {
          'content-type': f.type,
          'content-range': `bytes ${start}-${end}/${f.bytes.length}`,
          'content-length': String(end - start + 1),
        });
        return res.end(f.bytes.subarray(start, end + 1));
      }
      res.writeHead(200, { 'content-type': f.type, 'content-length': String(f.bytes.length) });
      return res.end(f.bytes);
    }
    json(404, { error: 'no such route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    files,
    requests,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
