/** Inbound media downloads (issue 14): what a provider's fetch hands the worker, which streams it to the store. */
import type { Credentials } from './inbound.js';
import { ProviderError } from './outbound.js';

/** A provider's file, as it streams in. */
export interface MediaDownload {
  body: AsyncIterable<Uint8Array>;
  /** The provider's Content-Type (or the type its metadata names). */
  mime_type: string | null;
  /** The announced size (Content-Length, file_size), when known. */
  size: number | null;
  /** Cancels the download (a file refused before it was read). */
  cancel(): Promise<void>;
}

/** What the worker knows of an inbound item: the provider's id and URL, as the webhook gave them. */
export interface MediaSource {
  provider_id: string | null;
  provider_url: string | null;
}

export interface MediaFetchOptions {
  /** The provider API's base URL (WHATSAPP_API_URL, TWILIO_API_URL…), so tests can use a fake on loopback. */
  baseUrl: string;
  signal?: AbortSignal;
}

/** A provider's download. Throws ProviderError: transient (network, 5xx, 429) or permanent (404, 403, no source). */
export type FetchMediaFn = (
  source: MediaSource,
  credentials: Credentials,
  options: MediaFetchOptions,
) => Promise<MediaDownload>;

/** An HTTP status a download met, as a ProviderError: 408, 425, 429 and 5xx are worth retrying; the rest are not. */
export function downloadError(status: number, what: string): ProviderError {
  const transient = status === 408 || status === 425 || status === 429 || status >= 500;
  return new ProviderError(`http_${status}`, `${what} answered ${status}`, transient);
}
