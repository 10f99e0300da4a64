import { AppError, type JobInfo, PermanentJobError, type Runtime } from '@comms/core/platform';
import { describe, expect, it } from 'vitest';
import { tenantJob } from './job.js';

// The preamble's one decision: which failures to resolve the tenant end the job for good.
function runtimeWhoseRegistry(resolve: () => Promise<never>): Runtime {
  return { tenants: { resolve, invalidate() {} } } as unknown as Runtime;
}
const job: JobInfo = { id: 'send-acme-1', attempt: 1, isLastAttempt: false };

describe('tenantJob', () => {
  it('fails the job for good when its tenant is not served', async () => {
    const processor = tenantJob(
      runtimeWhoseRegistry(() => Promise.reject(new AppError('not_found', "tenant 'gone' not found"))),
      'outbound-send',
      async () => {},
    );
    await expect(processor({ tenant: 'gone', message_id: 1 }, job)).rejects.toBeInstanceOf(PermanentJobError);
  });

  it('leaves the job to be retried when the registry cannot be read (a database outage)', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const processor = tenantJob(
      runtimeWhoseRegistry(() => Promise.reject(outage)),
      'outbound-send',
      async () => {},
    );
    const failure = await processor({ tenant: 'acme', message_id: 1 }, job).catch((err: unknown) => err);
    expect(failure).toBe(outage);
    expect(failure).not.toBeInstanceOf(PermanentJobError);
  });
});
