/** The WhatsApp Cloud API in the sandbox transport: a `wamid` for each send, and Meta's signed status webhooks. */
import type { ProviderSandbox } from '@comms/adapter-kit';
import { signedMetaWebhook } from '@comms/adapter-meta-graph';
import { newWamid, whatsappStatus, whatsappWebhook } from './webhook.js';

export const whatsappSandbox: ProviderSandbox = {
  messageId: newWamid,
  statusWebhook(report, credentials) {
    if (!credentials.app_secret) throw new Error('the account has no app_secret to sign its status webhooks with');
    const status = whatsappStatus({
      id: report.provider_message_id,
      status: report.status,
      recipient: report.message.to,
      timestamp: report.at,
    });
    return signedMetaWebhook(whatsappWebhook([status], { phoneNumberId: report.message.from }), credentials.app_secret);
  },
};
