/**
 * media-fetch: one inbound media item from its provider into the media store (issue 14). Idempotent per
 * (message, item): an item that is no longer pending is left alone. Transient errors (network, 5xx, 429) are
 * retried with the queue's backoff; a provider's refusal (404, 403), or the last attempt, records the item
 * `failed`; a file over MEDIA_MAX_BYTES or of a type off the allow-list records it `rejected`.
 */
import { type Channel, ProviderError } from '@comms/adapter-kit';
import {
  prepareMediaFetch,
  recordAttachmentProblem,
  recordAttachmentStored,
  resolveCredentials,
} from '@comms/core/inbox';
import { checkIncoming, MediaRefusal, PermanentJobError, type Runtime, storeMedia } from '@comms/core/platform';
import { type TenantJobHandler, tenantJob } from '../job.js';
import type { MediaSource } from '../media-sources.js';

/** A download that stalls this long is abandoned and retried. */
const FETCH_TIMEOUT_MS = 120_000;

export function createMediaFetchProcessor(runtime: Runtime, sources: Partial<Record<Channel, MediaSource>>) {
  const handle: TenantJobHandler<'media-fetch'> = async (ctx, data, job) => {
    const work = await prepareMediaFetch(ctx, data.message_id, data.index);
    if (work.kind === 'skip') {
      ctx.log.debug({ reason: work.reason }, 'no media to fetch');
      return;
    }
    const { item, account } = work;
    const source = sources[account.provider as Channel];
    if (!source) {
      await recordAttachmentProblem(ctx, data.message_id, data.index, 'failed', 'the message carried no file to store');
      return;
    }
    try {
      // A type the webhook declared is checked before anything is downloaded.
      if (item.mime_type) checkIncoming(ctx.media, { mimeType: item.mime_type, filename: item.filename ?? null });
      const download = await source.fetch(
        { provider_id: item.provider_id ?? null, provider_url: item.provider_url ?? null },
        resolveCredentials(ctx, account, runtime.config),
        { ...source.options, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) },
      );
      let row: Awaited<ReturnType<typeof storeMedia>>;
      try {
        row = await storeMedia(ctx, download.body, {
          // What the provider's webhook declared wins over a CDN's generic type.
          mimeType: item.mime_type ?? download.mime_type,
          filename: item.filename ?? null,
          declaredSize: download.size,
        });
      } finally {
        await download.cancel();
      }
      await recordAttachmentStored(ctx, data.message_id, data.index, row, item.filename ?? null);
      ctx.log.info({ media_id: row.id, size: row.size }, 'media stored');
    } catch (err) {
      if (err instanceof MediaRefusal) {
        await recordAttachmentProblem(ctx, data.message_id, data.index, 'rejected', err.message);
        ctx.log.warn({ reason: err.reason }, 'media refused');
        return;
      }
      const pe =
        err instanceof ProviderError
          ? err
          : new ProviderError('network', err instanceof Error ? err.message : String(err), true);
      if (!pe.transient || job.isLastAttempt) {
        await recordAttachmentProblem(ctx, data.message_id, data.index, 'failed', `${pe.code}: ${pe.message}`);
        ctx.log.warn({ code: pe.code, transient: pe.transient }, 'media fetch failed');
        throw new PermanentJobError(`${pe.code}: ${pe.message}`);
      }
      ctx.log.info({ code: pe.code }, 'media fetch failed; will retry');
      throw pe;
    }
  };
  return tenantJob(runtime, 'media-fetch', handle, {
    logFields: (data, job) => ({ message_id: data.message_id, item: data.index, attempt: job.attempt }),
  });
}
