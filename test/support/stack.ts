/** The whole service on one loopback port, as `npm start` runs it: API, gateway and worker on one runtime. */
import type { Channel } from '@comms/adapter-kit';
import { createGatewayApp, routeWebhooks } from '@comms/gateway';
import { startWorker, type RunningWorker, type WorkerOptions } from '@comms/worker';
import { type Harness, type StartOptions, startApi } from './harness.js';

export interface Stack extends Harness {
  worker: RunningWorker | null;
}

export async function startStack(options: StartOptions & { worker?: boolean | WorkerOptions } = {}): Promise<Stack> {
  let worker: RunningWorker | null = null;
  // With SANDBOX_TRANSPORT on, the worker posts its status webhooks to this stack's own gateway, on loopback.
  let url: string | undefined;
  const h = await startApi({
    ...options,
    compose: (runtime, apiFetch) => routeWebhooks(createGatewayApp(runtime), apiFetch),
    attach: options.worker
      ? (runtime) => {
          worker = startWorker(runtime, {
            sweepEveryMs: 3_600_000,
            sandbox: { gatewayUrl: () => url },
            ...(typeof options.worker === 'object' ? options.worker : {}),
          });
          return worker;
        }
      : undefined,
  });
  url = h.url;
  return Object.assign(h, { worker });
}

/** Creates a channel account through the API (as a tenant admin) and returns its id. */
export async function createAccount(
  h: Harness,
  tenant: string,
  body: {
    provider: Channel;
    identifier: string;
    credentials: Record<string, string>;
    name?: string;
    settings?: Record<string, unknown>;
    sandbox?: boolean;
    transport?: 'sendgrid' | 'ses';
    ses?: Record<string, unknown>;
  },
): Promise<number> {
  const res = await h.request('POST', `/api/v1/tenants/${tenant}/communications/channel-accounts`, {
    body: { name: `${body.provider} account`, ...body },
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${res.text}`);
  return res.body.id;
}
