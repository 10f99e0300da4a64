/** Streaming downloads of media the Graph API points at (WhatsApp's media URLs, Messenger's attachment URLs). */
import type { IncomingMessage } from 'node:http';
import { downloadError, type MediaDownload, ProviderError } from '@comms/adapter-kit';
import { httpGetStream } from './http.js';

/**
 * GETs `url` and hands back the body as it streams (a Node stream on the keep-alive agents, not `fetch`'s web
 * streams, which cost several times the CPU and memory per chunk); redirects are followed. Throws ProviderError.
 */
export async function streamDownload(
  url: string,
  headers: Record<string, string>,
  what: string,
  signal?: AbortSignal,
): Promise<MediaDownload> {
  let res: IncomingMessage;
  try {
    res = await httpGetStream(url, headers, signal);
  } catch (err) {
    throw new ProviderError('network', err instanceof Error ? err.message : String(err), true, { cause: err });
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status >= 300) {
    res.resume();
    throw downloadError(status, what);
  }
  // Until the caller reads the body, a reset or the deadline must not be an unhandled 'error' event: the stream is
  // left errored, and reading it rejects with the error.
  res.on('error', () => {});
  const length = res.headers['content-length'];
  const type = res.headers['content-type'];
  return {
    body: res,
    mime_type: type ?? null,
    size: length !== undefined && /^\d+$/.test(length) ? Number(length) : null,
    cancel: async () => {
      res.destroy();
    },
  };
}
