/** The preamble every job of the worker shares, once: the job's tenant, its logger and its context. */
import {
  AppError,
  type JobData,
  type JobInfo,
  PermanentJobError,
  type Processor,
  type QueueName,
  type Runtime,
  type TenantContext,
} from '@comms/core/platform';

/** A job's work, given its tenant's context (whose logger names the tenant and the job), its payload and the job. */
export type TenantJobHandler<N extends QueueName> = (
  ctx: TenantContext,
  data: JobData<N>,
  job: JobInfo,
) => Promise<void>;

export interface TenantJobOptions<N extends QueueName> {
  /** What the job's log lines name besides the tenant and the job id. */
  logFields?: (data: JobData<N>, job: JobInfo) => Record<string, unknown>;
}

/**
 * The processor of queue `queue` (its payload already parsed against the queue's schema): resolves the tenant
 * the job names, failing the job for good (`PermanentJobError`) when that tenant is not served (and retrying it
 * when the registry cannot be read), makes a child
 * logger with the tenant and the job id, and runs `handler` in the tenant's context.
 */
export function tenantJob<N extends QueueName>(
  runtime: Runtime,
  _queue: N,
  handler: TenantJobHandler<N>,
  options: TenantJobOptions<N> = {},
): Processor<N> {
  return async (data, job) => {
    const tenant = await runtime.tenants.resolve(data.tenant).catch((err: unknown) => {
      // Only a tenant that is not served fails the job for good; a database that cannot be reached is an outage,
      // retried with the queue's backoff like any other transient failure.
      if (err instanceof AppError && err.code === 'not_found') return null;
      throw err;
    });
    if (!tenant) throw new PermanentJobError(`tenant ${data.tenant} is not served`);
    const log = runtime.log.child({ tenant: data.tenant, job_id: job.id, ...options.logFields?.(data, job) });
    await handler(runtime.context(tenant, { log }), data, job);
  };
}
