/**
 * A request's raw bytes and headers, at most `limit` bytes, and the refusal of a larger one.
 *
 * Served by @hono/node-server, the app receives the Node request as `c.env.incoming`: reading it directly
 * spares building a fetch Request, an abort signal and a web stream for every webhook, which were a tenth
 * of the gateway's CPU. Called through `app.request()` or a router that passes no env, the fetch Request is
 * read instead. Either way a body over the limit is refused as soon as its length says so, before it is
 * held in memory.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { problemResponse } from '../problem.js';

export interface RawBody {
  body: Uint8Array;
  /** Lower-cased names; repeated headers joined with ", " as the fetch Headers would. */
  headers: Record<string, string>;
}

export async function readBody(c: Context, limit: number): Promise<RawBody | 'too-large'> {
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

/** The most of an oversized body read (and dropped) before its 413, so the sender gets to read the answer. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 10_000;

/**
 * 413 for a body over the limit, as a lingering close: the rest of the body is read and dropped (up to
 * 64 MiB or 10 s), then the answer goes out with `Connection: close`. Answering while the sender is still
 * writing, and closing, resets the connection under it, and many clients then report the reset instead of
 * the 413.
 */
export async function refuseTooLarge(c: Context, detail: string): Promise<Response> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming && !incoming.readableEnded && !incoming.destroyed) await drain(incoming);
  return problemResponse(413, detail, undefined, { connection: 'close' });
}

function drain(incoming: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off('data', onData);
      incoming.off('end', done);
      incoming.off('error', done);
      incoming.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_MAX_BYTES) done();
    };
    const timer = setTimeout(done, DRAIN_MAX_MS);
    incoming.on('data', onData);
    incoming.on('end', done);
    incoming.on('error', done);
    incoming.on('close', done);
    incoming.resume();
  });
}

/**
 * Reads a request's body from Node (within `limit`) and hands it to the fetch Request that @hono/node-server
 * builds when a handler asks for the body, so validators parse those bytes: the limit is then enforced
 * before any handler, on chunked bodies too, and a body over it is refused with a lingering close.
 * Without a Node request (`app.request()` in tests) the fetch Request is read the same way.
 */
export async function limitBody(c: Context, limit: number): Promise<Response | null> {
  let read: RawBody | 'too-large';
  try {
    read = await readBody(c, limit);
  } catch {
    return problemResponse(400, 'the request body could not be read');
  }
  if (read === 'too-large') return refuseTooLarge(c, `the body is larger than ${limit} bytes`);
  const incoming = (c.env as { incoming?: IncomingMessage & { rawBody?: Buffer } } | undefined)?.incoming;
  if (incoming) incoming.rawBody = Buffer.from(read.body.buffer, read.body.byteOffset, read.body.byteLength);
  // The fetch Request's body is used up now; Hono's body cache answers the handler's c.req.json() instead.
  // (Hono keeps promises there, whatever its type says.)
  else (c.req.bodyCache as Record<string, unknown>).arrayBuffer = Promise.resolve(new Uint8Array(read.body).buffer);
  return null;
}
