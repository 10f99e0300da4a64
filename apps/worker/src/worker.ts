/** Wires the processors to the queues and runs the pending sweeper. */
import { sweepPendingMedia, sweepPendingMessages } from '@comms/core/inbox';
import type { Runtime } from '@comms/core/platform';
import { listActiveTenants } from '@comms/core/tenancy';
import { type MediaSource, mediaSourcesFor } from './media-sources.js';
import { createMediaFetchProcessor } from './processors/media-fetch.js';
import {
  createWebhookDeliveryProcessor,
  createWebhookReplayProcessor,
  pruneWebhooks,
  sweepWebhooks,
} from './processors/webhook-delivery.js';
import { createNotificationProcessor } from './processors/notification.js';
import { createOutboundSendProcessor } from './processors/outbound-send.js';
import { createStatusUpdateProcessor } from './processors/status-update.js';
import { createSandboxTransport, type SandboxOptions } from './sandbox.js';
import { type Senders, sendersFor } from './senders.js';
import type { Channel } from '@comms/adapter-kit';

export interface WorkerOptions {
  /** Replies pending longer than this are enqueued again (ms). */
  sweepAfterMs?: number;
  sweepEveryMs?: number;
  /** Webhook deliveries due longer than this and not in flight are queued again (ms). */
  webhookSweepAfterMs?: number;
  /** How often old webhook deliveries are pruned (once per period across every process; default hourly). */
  webhookPruneEveryMs?: number;
  senders?: Senders;
  /** Where inbound media are downloaded from (default: the providers' adapters on the configured base URLs). */
  mediaSources?: Partial<Record<Channel, MediaSource>>;
  /** The sandbox transport's options (used when SANDBOX_TRANSPORT is on). */
  sandbox?: SandboxOptions;
}

export interface RunningWorker {
  /** One sweep over every tenant now; returns how many messages were enqueued. */
  sweep(): Promise<number>;
  /** One prune of webhook deliveries past WEBHOOK_RETENTION_DAYS over every tenant now; returns how many. */
  prune(): Promise<number>;
  close(): Promise<void>;
}

export function startWorker(runtime: Runtime, options: WorkerOptions = {}): RunningWorker {
  const senders = options.senders ?? sendersFor(runtime.config);
  const sandbox = runtime.config.SANDBOX_TRANSPORT ? createSandboxTransport(runtime, options.sandbox) : null;
  runtime.queues.process('outbound-send', createOutboundSendProcessor(runtime, senders, sandbox));
  runtime.queues.process('status-update', createStatusUpdateProcessor(runtime));
  runtime.queues.process('notifications', createNotificationProcessor(runtime));
  runtime.queues.process(
    'media-fetch',
    createMediaFetchProcessor(runtime, options.mediaSources ?? mediaSourcesFor(runtime.config)),
  );
  runtime.queues.process('webhook-delivery', createWebhookDeliveryProcessor(runtime));
  runtime.queues.process('webhook-replay', createWebhookReplayProcessor(runtime));

  const sweepAfterMs = options.sweepAfterMs ?? 60_000;
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return 0;
    sweeping = true;
    let queued = 0;
    try {
      for (const tenant of await listActiveTenants(runtime)) {
        queued += await sweepPendingMessages(runtime.context(tenant), sweepAfterMs);
        queued += await sweepWebhooks(runtime.context(tenant), options.webhookSweepAfterMs ?? 30_000);
        queued += await sweepPendingMedia(runtime.context(tenant), sweepAfterMs);
      }
      if (queued)
        runtime.log.info({ queued }, 'sweeper re-enqueued pending replies, webhook deliveries and media fetches');
    } catch (err) {
      runtime.log.warn({ err: String(err) }, 'sweep failed; will try again');
    } finally {
      sweeping = false;
    }
    return queued;
  };
  // One sweep per period across every worker process and host (a lock in Redis), not one per process.
  const timer = runtime.singleton(
    'pending-sweeper',
    options.sweepEveryMs ?? runtime.config.PENDING_SWEEP_INTERVAL_MS,
    sweep,
  );
  const retentionDays = runtime.config.WEBHOOK_RETENTION_DAYS;
  const prune = async () => {
    let pruned = 0;
    for (const tenant of await listActiveTenants(runtime))
      pruned += await pruneWebhooks(runtime.context(tenant), retentionDays);
    if (pruned) runtime.log.info({ pruned, retention_days: retentionDays }, 'old webhook deliveries pruned');
    return pruned;
  };
  // One prune per period across every worker process and host, as the sweeper.
  const pruner = runtime.singleton('webhook-prune', options.webhookPruneEveryMs ?? 3_600_000, prune);
  return {
    sweep,
    prune,
    async close() {
      timer.stop();
      pruner.stop();
      await sandbox?.close();
    },
  };
}
