/** Streaming downloads of media the Graph API points at (WhatsApp's media URLs, Messenger's attachment URLs). */
import { downloadError, type MediaDownload, ProviderError } from '@comms/adapter-kit';

/** GETs `url` and hands back the body as it streams; redirects are followed. Throws ProviderError. */
export async function streamDownload(
  url: string,
  headers: Record<string, string>,
  what: string,
  signal?: AbortSignal,
): Promise<MediaDownload> {
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new ProviderError('network', err instanceof Error ? err.message : String(err), true, { cause: err });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw downloadError(res.status, what);
  }
  const length = Number(res.headers.get('content-length'));
  const body = res.body;
  return {
    body: body as unknown as AsyncIterable<Uint8Array>,
    mime_type: res.headers.get('content-type'),
    size: Number.isSafeInteger(length) && length >= 0 && res.headers.has('content-length') ? length : null,
    cancel: () => body.cancel().catch(() => {}),
  };
}
