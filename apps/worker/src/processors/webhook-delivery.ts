/**
 * webhook-delivery: one attempt at one outgoing webhook, then its retry queued on the delivery's schedule.
 * webhook-replay: an endpoint's deliveries since a time, sent again one after another in order.
 */
import type { Processor, Runtime, TenantContext } from '@comms/core/platform';
import { deliverAndSchedule, deliverySettings, runReplay, sweepDeliveries } from '@comms/core/webhooks';
import { tenantJob } from '../job.js';

export function createWebhookDeliveryProcessor(runtime: Runtime): Processor<'webhook-delivery'> {
  const settings = deliverySettings(runtime.config);
  return tenantJob(
    runtime,
    'webhook-delivery',
    async (ctx, data) => {
      await deliverAndSchedule(ctx, settings, data.delivery_id);
    },
    { logFields: (data) => ({ delivery_id: data.delivery_id }) },
  );
}

export function createWebhookReplayProcessor(runtime: Runtime): Processor<'webhook-replay'> {
  const settings = deliverySettings(runtime.config);
  return tenantJob(runtime, 'webhook-replay', (ctx, data) => runReplay(ctx, settings, data), {
    logFields: (data) => ({ endpoint_id: data.endpoint_id }),
  });
}

/** The sweeper's share for webhooks: deliveries due and never attempted are queued again. */
export function sweepWebhooks(ctx: TenantContext, graceMs: number): Promise<number> {
  return sweepDeliveries(ctx, graceMs);
}
