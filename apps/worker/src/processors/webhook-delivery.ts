/**
 * webhook-delivery: one endpoint's due deliveries, sent in batches; then its next wake queued (more due, a retry).
 * webhook-replay: an endpoint's deliveries since a time, sent again one after another in order.
 */
import type { Processor, Runtime, TenantContext } from '@comms/core/platform';
import { deliverEndpoint, deliverySettings, pruneDeliveries, runReplay, sweepDeliveries } from '@comms/core/webhooks';
import { tenantJob } from '../job.js';

export function createWebhookDeliveryProcessor(runtime: Runtime): Processor<'webhook-delivery'> {
  const settings = deliverySettings(runtime.config);
  return tenantJob(
    runtime,
    'webhook-delivery',
    async (ctx, data) => {
      await deliverEndpoint(ctx, settings, data.endpoint_id, { key: data.key });
    },
    { logFields: (data) => ({ endpoint_id: data.endpoint_id }) },
  );
}

export function createWebhookReplayProcessor(runtime: Runtime): Processor<'webhook-replay'> {
  const settings = deliverySettings(runtime.config);
  return tenantJob(runtime, 'webhook-replay', (ctx, data) => runReplay(ctx, settings, data), {
    logFields: (data) => ({ endpoint_id: data.endpoint_id }),
  });
}

/** The sweeper's share for webhooks: endpoints with deliveries due and in no attempt are woken again. */
export function sweepWebhooks(ctx: TenantContext, graceMs: number): Promise<number> {
  return sweepDeliveries(ctx, graceMs);
}

/** The retention's share of one tenant: finished deliveries older than WEBHOOK_RETENTION_DAYS are deleted. */
export function pruneWebhooks(ctx: TenantContext, retentionDays: number): Promise<number> {
  return pruneDeliveries(ctx, retentionDays);
}
