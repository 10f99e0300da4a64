import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startApi } from '../support/harness.js';

describe('/admin/queues', () => {
  let embedded: Harness;
  let redis: Harness;
  beforeAll(async () => {
    embedded = await startApi();
    redis = await startApi({ redis: true });
  });
  afterAll(async () => {
    await embedded.close();
    await redis.close();
  });

  it('is for tenant admins and super admins only', async () => {
    const tenant = await embedded.createTenant('adm');
    expect((await embedded.request('GET', '/admin/queues', { token: null })).status).toBe(401);
    const user = await embedded.token({ tenant, role: 'tenant_user' });
    expect((await embedded.request('GET', '/admin/queues', { token: user })).status).toBe(403);
    const admin = await embedded.token({ tenant, role: 'tenant_admin' });
    const res = await embedded.request('GET', '/admin/queues', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.mode).toBe('in-process');
    expect(Object.keys(res.body.queues).sort()).toEqual([
      'media-fetch',
      'notifications',
      'outbound-send',
      'status-update',
      'webhook-delivery',
      'webhook-replay',
    ]);
  });

  it('serves Bull Board over the BullMQ queues, the token kept in a cookie for its API calls', async () => {
    const tenant = await redis.createTenant('adm');
    const admin = await redis.token({ tenant, role: 'tenant_admin' });
    const page = await fetch(`${redis.url}/admin/queues?token=${admin}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const queues = await fetch(`${redis.url}/admin/queues/api/queues`, { headers: { cookie } });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual([
      'media-fetch',
      'notifications',
      'outbound-send',
      'status-update',
      'webhook-delivery',
      'webhook-replay',
    ]);
    expect((await fetch(`${redis.url}/admin/queues/api/queues`)).status).toBe(401);
  });

  it('exports queue depth in /metrics', async () => {
    const metrics = await redis.request('GET', '/metrics', { token: null });
    expect(metrics.text).toMatch(/queue_jobs\{queue="outbound-send",state="waiting"\} \d+/);
  });
});
