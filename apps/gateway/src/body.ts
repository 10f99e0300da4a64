/**
 * A webhook's raw bytes and headers, at most `limit` bytes.
 *
 * Served by @hono/node-server, the app receives the Node request as `c.env.incoming`: reading it directly
 * spares building a fetch Request, an abort signal and a web stream for every webhook, which were a tenth
 * of the gateway's CPU. Called through `app.request()` or a router that passes no env, the fetch Request is
 * read instead. Either way a body over the limit is refused as soon as its length says so, before it is
 * held in memory.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

export interface RawWebhook {
  body: Uint8Array;
  /** Lower-cased names; repeated headers joined with ", " as the fetch Headers would. */
  headers: Record<string, string>;
}

export async function readWebhook(c: Context, limit: number): Promise<RawWebhook | 'too-large'> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.readableDidRead) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    if (Number(headers['content-length'] ?? 0) > limit) return 'too-large';
    const body = await readNode(incoming, limit);
    return body === 'too-large' ? body : { body, headers };
  }

  const raw = c.req.raw;
  const headers = Object.fromEntries([...raw.headers].map(([k, v]) => [k.toLowerCase(), v]));
  if (Number(headers['content-length'] ?? 0) > limit) return 'too-large';
  if (!raw.body) return { body: new Uint8Array(0), headers };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of raw.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) return 'too-large';
    chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks, size), headers };
}

/**
 * Listens rather than iterates: leaving a `for await` would destroy the request and its socket before the
 * 413 is written. Past the limit we stop listening; @hono/node-server drains or closes the rest once the
 * answer is sent.
 */
function readNode(incoming: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    // The client may have gone before we got here: a destroyed request emits nothing more.
    if (incoming.destroyed) return reject(new Error('the client closed the request before its body was read'));
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        resolve('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => onError(new Error('the client closed the request before its body was read'));
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
