/** status-update: a provider's delivery status, applied forward only once our message has its id. */
import { applyStatusUpdate, StatusTargetMissing } from '@comms/core/inbox';
import type { Runtime } from '@comms/core/platform';
import { tenantJob } from '../job.js';

export function createStatusUpdateProcessor(runtime: Runtime) {
  return tenantJob(runtime, 'status-update', async (ctx, data, job) => {
    try {
      await applyStatusUpdate(ctx, data);
    } catch (err) {
      if (err instanceof StatusTargetMissing && job.isLastAttempt) {
        ctx.log.warn({ external_id: data.external_id }, 'status for an unknown message dropped');
        return;
      }
      throw err;
    }
  });
}
