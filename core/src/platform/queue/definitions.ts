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
 * One attempt at one outgoing webhook delivery (issue 15). `attempt` is the delivery's attempt count when the job
 * was queued, so each retry is a job of its own; `key` tells apart the sweeper's and a manual retry's re-queues.
 * The delivery row is the truth: a job for a delivery that is not due, or in flight elsewhere, does nothing.
 */
export const WebhookDeliveryJob = z.object({
  tenant: z.string(),
  delivery_id: z.number().int().positive(),
  attempt: z.number().int().min(0),
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
    jobId: (d: WebhookDeliveryJob) => `webhook-${d.tenant}-${d.delivery_id}-${d.attempt}${d.key ? `-${d.key}` : ''}`,
  },
  'webhook-replay': {
    schema: WebhookReplayJob,
    policy: { attempts: 3, backoffMs: 2_000, keepCompleted: 100, keepFailed: 1_000, concurrency: 2 },
    jobId: (d: WebhookReplayJob) => `webhook-replay-${d.tenant}-${d.endpoint_id}-${d.through_id}`,
  },
} as const;

export type QueueName = keyof typeof QUEUES;
export type JobData<N extends QueueName> = z.infer<(typeof QUEUES)[N]['schema']>;

/** The delay before retry `attempt` (1-based): exponential from `baseMs`. */
export function backoffDelay(baseMs: number, attempt: number): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1);
  // Full jitter on half the delay, so retries of many jobs spread out.
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}
