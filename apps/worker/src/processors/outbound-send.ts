/** outbound-send: one agent reply to the provider, exactly once as far as the provider allows. */
import { ProviderError } from '@comms/adapter-kit';
import { prepareOutbound, recordFailed, recordSent, resolveCredentials, webhookPath } from '@comms/core/inbox';
import { PermanentJobError, type Runtime, type TenantContext } from '@comms/core/platform';
import { Histogram } from 'prom-client';
import { type TenantJobHandler, tenantJob } from '../job.js';
import { DEFAULT_RATES } from '../rate-limit.js';
import type { SandboxTransport } from '../sandbox.js';
import { type Senders, senderOf } from '../senders.js';

const SEND_TIMEOUT_MS = 15_000;
/** How long a provider id that could not be stored is retried before the job gives up (and may resend). */
const RECORD_FOR_MS = 60_000;

/**
 * recordSent, retried with backoff for up to RECORD_FOR_MS. Measured by `npm run chaos`: a PostgreSQL restart
 * while sends were in flight made the job retry the send, and the customer got the reply twice.
 */
async function recordSentPatiently(ctx: TenantContext, messageId: number, providerMessageId: string) {
  const until = Date.now() + RECORD_FOR_MS;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      await recordSent(ctx, messageId, providerMessageId);
      return;
    } catch (err) {
      if (Date.now() + delay > until) {
        ctx.log.error({ err: String(err) }, 'sent, but the provider id could not be stored; a retry may send again');
        throw err;
      }
      ctx.log.warn({ err: String(err) }, 'sent; storing the provider id failed, retrying');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/**
 * `sandbox` is the sandbox transport when SANDBOX_TRANSPORT is on, else null. Replies through a sandbox account go
 * to it and never to the provider; every other account's replies go to the provider, whatever the setting.
 */
export function createOutboundSendProcessor(
  runtime: Runtime,
  senders: Senders,
  sandbox: SandboxTransport | null = null,
) {
  const latency = new Histogram({
    name: 'outbound_send_seconds',
    help: 'From the reply being accepted to the provider accepting it',
    labelNames: ['channel', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300],
    registers: [runtime.metrics],
  });
  const base = runtime.config.PUBLIC_BASE_URL.replace(/\/$/, '');

  const send: TenantJobHandler<'outbound-send'> = async (ctx, data, job) => {
    const { log, tenant } = ctx;
    const work = await prepareOutbound(ctx, data.message_id, {
      statusCallbackUrl: (channel) =>
        channel === 'sms' || channel === 'twilio_whatsapp'
          ? `${base}${webhookPath(tenant.slug, 'twilio_status')}`
          : null,
    });
    if (work.kind === 'skip') {
      if (work.reason === 'no channel account')
        await recordFailed(ctx, data.message_id, {
          code: 'no_channel_account',
          message: 'the conversation has no channel account to send through',
        });
      log.debug({ reason: work.reason }, 'nothing to send');
      return;
    }
    // A sandbox account's credentials are the simulator's own inventions: its replies never go to the provider.
    if (work.account.sandbox && !sandbox) {
      await recordFailed(ctx, data.message_id, {
        code: 'sandbox_disabled',
        message: 'this is a sandbox channel account and the sandbox transport is off (SANDBOX_TRANSPORT)',
      });
      log.warn('reply through a sandbox account failed: the sandbox transport is off');
      return;
    }
    const sender = senderOf(senders, work.channel, work.account.transport);
    const credentials = resolveCredentials(ctx, work.account, runtime.config);
    const rate = Number(work.account.settings.rate_limit_per_second) || DEFAULT_RATES[work.channel];
    await runtime.rateLimits.take(`${tenant.slug}:${work.account.id}`, rate);
    const started = Date.now();
    let providerMessageId: string;
    try {
      const sent =
        work.account.sandbox && sandbox
          ? sandbox.send(work)
          : await sender.send(work.message, credentials, {
              ...sender.options,
              settings: work.account.transportSettings,
              signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
            });
      providerMessageId = sent.provider_message_id;
    } catch (err) {
      const pe =
        err instanceof ProviderError
          ? err
          : new ProviderError('network', err instanceof Error ? err.message : String(err), true);
      if (!pe.transient || job.isLastAttempt) {
        await recordFailed(ctx, data.message_id, { code: pe.code, message: pe.message });
        latency.observe({ channel: work.channel, outcome: 'failed' }, (Date.now() - started) / 1000);
        log.warn({ code: pe.code, transient: pe.transient }, 'send failed');
        throw new PermanentJobError(`${pe.code}: ${pe.message}`);
      }
      log.info({ code: pe.code }, 'send failed; will retry');
      throw pe;
    }
    // The provider has the message now. A failure to record that is not a failed send: retrying the job would
    // send it again, so the record is retried on its own (a database restart takes seconds).
    await recordSentPatiently(ctx, data.message_id, providerMessageId);
    latency.observe({ channel: work.channel, outcome: 'sent' }, (Date.now() - started) / 1000);
    // SES statuses come through SNS, signed by a certificate only the simulator serves: `npm run simulate -- ses
    // --event …` plays them.
    if (work.account.sandbox && sandbox && work.account.transport !== 'ses')
      sandbox.playStatuses(ctx, work, { provider_message_id: providerMessageId }, credentials);
  };
  return tenantJob(runtime, 'outbound-send', send, {
    logFields: (data, job) => ({ message_id: data.message_id, attempt: job.attempt }),
  });
}
