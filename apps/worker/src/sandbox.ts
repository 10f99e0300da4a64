/**
 * The sandbox transport (issue 21 point 15): what a reply through a sandbox channel account (the simulator's) meets
 * instead of its provider, so the demo's loop finishes offline. It accepts the send as the provider would (an id
 * of the provider's shape; the message becomes `sent`), then, SANDBOX_STATUS_DELAY_MS apart, posts the provider's
 * own signed `delivered` and `read` status webhooks to the gateway over HTTP: the same routes, signature checks,
 * parsing and status-update jobs a real provider's statuses go through. The bodies and signatures come from each
 * adapter (`ProviderSandbox`); only accounts flagged `sandbox` come here, and only while SANDBOX_TRANSPORT is on,
 * which config refuses in production.
 *
 * The statuses wait in this process's timers: a worker stopped in between drops the ones not yet posted (the
 * message stays where it got to), which is fine for a sandbox.
 */
import type { Credentials, OutboundMessage, SendResult } from '@comms/adapter-kit';
import { type ChannelAccountRow, webhookPath } from '@comms/core/inbox';
import type { Runtime, TenantContext } from '@comms/core/platform';
import { SANDBOX_PROVIDERS } from './senders.js';
import type { Channel } from '@comms/adapter-kit';

export interface SandboxOptions {
  /**
   * Where the gateway listens, read when a status is posted (`npm start` passes its own server's loopback URL);
   * PUBLIC_BASE_URL when it gives none. Signatures are made for PUBLIC_BASE_URL, the URL the gateway checks them for.
   */
  gatewayUrl?: () => string | undefined;
}

/** One accepted send, as the sandbox needs it back for its statuses. */
export interface SandboxSend {
  channel: Channel;
  account: ChannelAccountRow;
  message: OutboundMessage;
}

export interface SandboxTransport {
  /** Accepts the send as the provider would: a new id of the provider's shape. */
  send(work: SandboxSend): SendResult;
  /** Once the send is recorded: plays the provider's `delivered` then `read` webhooks back through the gateway. */
  playStatuses(ctx: TenantContext, work: SandboxSend, sent: SendResult, credentials: Credentials): void;
  /** Drops the statuses not yet posted and waits for the ones in flight. */
  close(): Promise<void>;
}

const POST_ATTEMPTS = 3;
const POST_TIMEOUT_MS = 10_000;

export function createSandboxTransport(runtime: Runtime, options: SandboxOptions = {}): SandboxTransport {
  const publicBase = runtime.config.PUBLIC_BASE_URL.replace(/\/$/, '');
  const gatewayBase = () => (options.gatewayUrl?.() ?? publicBase).replace(/\/$/, '');
  const delayMs = runtime.config.SANDBOX_STATUS_DELAY_MS;
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();

  const pause = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (stopping.signal.aborted) return reject(stopping.signal.reason);
      const timer = setTimeout(() => {
        stopping.signal.removeEventListener('abort', abort);
        resolve();
      }, ms);
      const abort = () => {
        clearTimeout(timer);
        reject(stopping.signal.reason);
      };
      stopping.signal.addEventListener('abort', abort, { once: true });
    });

  /** Posts one signed webhook as the provider would: a few tries, a non-2xx answer is retried like a provider does. */
  async function post(path: string, body: string, headers: Record<string, string>): Promise<number> {
    let status = 0;
    for (let attempt = 1; attempt <= POST_ATTEMPTS; attempt += 1) {
      if (attempt > 1) await pause(Math.max(delayMs, 200) * attempt);
      try {
        const res = await fetch(`${gatewayBase()}${path}`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(POST_TIMEOUT_MS)]),
        });
        await res.body?.cancel();
        status = res.status;
        // 4xx is the gateway refusing the webhook (signature, account): another try would be refused the same way.
        if (res.ok || (status >= 400 && status < 500)) return status;
      } catch (err) {
        if (stopping.signal.aborted) throw err;
        status = 0;
      }
    }
    return status;
  }

  async function play(ctx: TenantContext, work: SandboxSend, sent: SendResult, credentials: Credentials) {
    const { provider, route, accountless } = SANDBOX_PROVIDERS[work.channel];
    const path = webhookPath(ctx.tenant.slug, route) + (accountless ? `?account=${work.account.id}` : '');
    for (const status of ['delivered', 'read'] as const) {
      await pause(delayMs);
      const hook = provider.statusWebhook(
        {
          channel: work.channel,
          message: work.message,
          provider_message_id: sent.provider_message_id,
          status,
          at: new Date(),
          url: `${publicBase}${path}`,
        },
        credentials,
      );
      const answer = await post(path, hook.body, hook.headers);
      if (answer < 200 || answer >= 300) {
        ctx.log.warn({ status, route, answer }, 'sandbox: the gateway did not take the status webhook');
        return;
      }
      ctx.log.debug({ status, route }, 'sandbox: status webhook posted');
    }
  }

  return {
    send(work) {
      return { provider_message_id: SANDBOX_PROVIDERS[work.channel].provider.messageId() };
    },
    playStatuses(ctx, work, sent, credentials) {
      const run = play(ctx, work, sent, credentials).catch((err) => {
        if (!stopping.signal.aborted)
          ctx.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'sandbox: statuses not played');
      });
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    },
    async close() {
      stopping.abort(new Error('the worker is closing'));
      await Promise.all(inFlight);
    },
  };
}
