/** Every queue's name, payload schema and retry policy, in one place. Job data carries ids, never bodies or secrets. */
import { z } from 'zod';

export const OutboundSendJob = z.object({ tenant: z.string(), message_id: z.number().int().positive() });
export type OutboundSendJob = z.infer<typeof OutboundSendJob>;

/** A provider's delivery status for one of our outbound messages (ids and codes only, no bodies). */
export const StatusUpdateJob = z.object({
  tenant: z.string(),
  channel_account_id: z.number().int().positive(),
  /** The provider's id of our message; null for Messenger/Instagram watermark receipts. */
  external_id: z.string().nullable(),
  /** Watermark receipts: every outbound message to `recipient` at or before this time. */
  watermark: z.iso.datetime().nullable(),
  recipient: z.string().nullable(),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  at: z.iso.datetime(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** Feedback that moves no status (SES complaint, transient bounce, delivery delay): kept on the message. */
  note: z
    .object({ kind: z.enum(['complaint', 'transient_bounce', 'delivery_delay']), detail: z.string() })
    .nullable()
    .default(null),
});
export type StatusUpdateJob = z.infer<typeof StatusUpdateJob>;

export const NotificationJob = z.object({
  tenant: z.string(),
  user_id: z.uuid(),
  entry_id: z.number().int().positive(),
  reason: z.enum(['mention', 'direct']),
});
export type NotificationJob = z.infer<typeof NotificationJob>;

/** One inbound media item to fetch from its provider into the media store (issue 14). */
export const MediaFetchJob = z.object({
  tenant: z.string(),
  message_id: z.number().int().positive(),
  /** The item's place in the message's `attachments`. */
  index: z.number().int().min(0).max(99),
});
export type MediaFetchJob = z.infer<typeof MediaFetchJob>;

/**
 * Delivers what is due of one webhook endpoint (issue 15): the delivery rows are the queue, and a job claims a batch
 * of the endpoint's due rows, sends them and writes their outcomes, until none is due. Without `key` it is the
 * endpoint's wake-up, deduplicated (`dedupe`): at most one waits, and one more is kept while one runs. With `key`
 * it is a wake of its own, deduplicated by job id only: a retry's delayed wake (`t…`, when the retry is due) or the
 * sweeper's (`s…`). A job that finds nothing due does nothing.
 */
export const WebhookDeliveryJob = z.object({
  tenant: z.string(),
  endpoint_id: z.number().int().positive(),
  key: z.string().max(40).optional(),
});
export type WebhookDeliveryJob = z.infer<typeof WebhookDeliveryJob>;

/** A replay: the endpoint's deliveries created since `since`, sent again one by one in order. */
export const WebhookReplayJob = z.object({
  tenant: z.string(),
  endpoint_id: z.number().int().positive(),
  since: z.iso.datetime(),
  /** The last delivery id included (those created after the request are not part of it). */
  through_id: z.number().int().min(0),
});
export type WebhookReplayJob = z.infer<typeof WebhookReplayJob>;

/** BullMQ job ids may not contain ':'; provider ids (email Message-IDs) sometimes do. */
export function safeJobId(id: string): string {
  return id.replace(/:/g, '_').slice(0, 400);
}

export interface QueuePolicy {
  attempts: number;
  /** Exponential backoff base (ms): delay = base * 2^(attempt-1), with jitter. */
  backoffMs: number;
  /** Jobs kept after completion / failure (BullMQ retention). */
  keepCompleted: number;
  keepFailed: number;
  concurrency: number;
}

export const QUEUES = {
  'outbound-send': {
    schema: OutboundSendJob,
    policy: { attempts: 8, backoffMs: 1_000, keepCompleted: 1_000, keepFailed: 10_000, concurrency: 50 },
    jobId: (d: OutboundSendJob) => `send-${d.tenant}-${d.message_id}`,
  },
  'status-update': {
    schema: StatusUpdateJob,
    // A status may arrive before our send stored the provider id: retry for about 20 minutes.
    policy: { attempts: 12, backoffMs: 1_000, keepCompleted: 1_000, keepFailed: 10_000, concurrency: 10 },
    jobId: (d: StatusUpdateJob) =>
      safeJobId(
        `status-${d.tenant}-${d.channel_account_id}-${d.external_id ?? `wm-${d.recipient}-${d.watermark}`}-${d.note ? d.note.kind : d.status}`,
      ),
  },
  notifications: {
    schema: NotificationJob,
    policy: { attempts: 6, backoffMs: 2_000, keepCompleted: 1_000, keepFailed: 10_000, concurrency: 5 },
    jobId: (d: NotificationJob) => `notify-${d.tenant}-${d.entry_id}-${d.user_id}`,
  },
  'media-fetch': {
    schema: MediaFetchJob,
    // Provider URLs expire (WhatsApp's within minutes, but its media id lasts 30 days): about 17 minutes of retries.
    policy: { attempts: 8, backoffMs: 2_000, keepCompleted: 1_000, keepFailed: 10_000, concurrency: 8 },
    jobId: (d: MediaFetchJob) => `media-${d.tenant}-${d.message_id}-${d.index}`,
  },
  // Retries of a receiver's failures follow the delivery's own schedule (WEBHOOK_RETRY_SCHEDULE, stored on the
  // row); the job's attempts only cover our own outages (the database away).
  'webhook-delivery': {
    schema: WebhookDeliveryJob,
    policy: { attempts: 5, backoffMs: 1_000, keepCompleted: 1_000, keepFailed: 10_000, concurrency: 50 },
    jobId: (d: WebhookDeliveryJob) => `webhook-${d.tenant}-${d.endpoint_id}${d.key ? `-${d.key}` : ''}`,
    dedupe: (d: WebhookDeliveryJob) => (d.key ? null : `webhook-${d.tenant}-${d.endpoint_id}`),
  },
  'webhook-replay': {
    schema: WebhookReplayJob,
    policy: { attempts: 3, backoffMs: 2_000, keepCompleted: 100, keepFailed: 1_000, concurrency: 2 },
    jobId: (d: WebhookReplayJob) => `webhook-replay-${d.tenant}-${d.endpoint_id}-${d.through_id}`,
  },
} as const;

export type QueueName = keyof typeof QUEUES;
export type JobData<N extends QueueName> = z.infer<(typeof QUEUES)[N]['schema']>;

/**
 * The key a queue deduplicates a job by instead of its id, or null. A job with a key is added only when no job with
 * that key is waiting (or delayed); while one runs, one more is kept and queued when it finishes (so work that
 * arrives during a run is never lost to the dedupe, and jobs of one key never run in parallel). Jobs without a key
 * dedupe by job id, as every queue's do.
 */
export function dedupeKeyOf<N extends QueueName>(name: N, data: JobData<N>): string | null {
  const def = QUEUES[name] as { dedupe?: (d: JobData<N>) => string | null };
  return def.dedupe ? def.dedupe(data) : null;
}

/** The delay before retry `attempt` (1-based): exponential from `baseMs`. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1);
  // Full jitter on half the delay, so retries of many jobs spread out.
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}
