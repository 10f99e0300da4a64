/** status-update: a provider's delivery status, applied forward only once our message has its id. */
import { applyStatusUpdate, StatusTargetMissing } from '@comms/core/inbox';
import { type JobInfo, PermanentJobError, type Runtime, type StatusUpdateJob } from '@comms/core/platform';

export function createStatusUpdateProcessor(runtime: Runtime) {
  return async (data: StatusUpdateJob, job: JobInfo): Promise<void> => {
    const tenant = await runtime.tenants.resolve(data.tenant).catch(() => null);
    if (!tenant) throw new PermanentJobError(`tenant ${data.tenant} is not served`);
    const ctx = runtime.context(tenant, { log: runtime.log.child({ tenant: data.tenant, job_id: job.id }) });
    try {
      await applyStatusUpdate(ctx, data);
    } catch (err) {
      if (err instanceof StatusTargetMissing && job.isLastAttempt) {
        ctx.log.warn({ external_id: data.external_id }, 'status for an unknown message dropped');
        return;
      }
      throw err;
    }
  };
}
