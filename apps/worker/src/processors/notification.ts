/**
 * notifications: a mention or direct message for a member who is not connected, posted to the platform's
 * Notification Service (NOTIFICATION_SERVICE_URL); a non-2xx answer retries.
 */
import { notificationFor } from '@comms/core/chat';
import { type Processor, type Runtime, signToken } from '@comms/core/platform';
import { tenantJob } from '../job.js';

export function createNotificationProcessor(runtime: Runtime): Processor<'notifications'> {
  const notify = tenantJob(runtime, 'notifications', async (ctx, data) => {
    const notification = await notificationFor(ctx, data);
    if (!notification) return; // deleted meanwhile: nothing to tell
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (runtime.config.JWT_SECRET)
      headers.authorization = `Bearer ${await signToken(runtime.config.JWT_SECRET, { sub: '00000000-0000-4000-8000-00000000c0de', role: 'super_admin', type: 'service' }, '5m')}`;
    const res = await fetch(runtime.config.NOTIFICATION_SERVICE_URL!, {
      method: 'POST',
      headers,
      body: JSON.stringify(notification),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`notification service answered ${res.status}`);
  });
  // Before the tenant is resolved, as ever: without a service, or for a connected user, the job is done.
  return async (data, job) => {
    if (!runtime.config.NOTIFICATION_SERVICE_URL) return;
    if (await runtime.presence.isOnline(data.tenant, data.user_id)) return;
    await notify(data, job);
  };
}
