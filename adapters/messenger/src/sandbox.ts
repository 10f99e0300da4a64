/**
 * Messenger and Instagram in the sandbox transport: an `m_…` id for each send, and Meta's signed delivery and read
 * receipts. Receipts name a watermark, not the message: everything sent to the customer up to it moves on.
 */
import type { ProviderSandbox } from '@comms/adapter-kit';
import { signedMetaWebhook } from '@comms/adapter-meta-graph';
import { messengerDelivery, messengerRead, messengerWebhook, newMid } from './webhook.js';

export const messengerSandbox: ProviderSandbox = {
  messageId: newMid,
  statusWebhook(report, credentials) {
    if (!credentials.app_secret) throw new Error('the account has no app_secret to sign its status webhooks with');
    const who = { account: report.message.from, from: report.message.to, timestamp: report.at.getTime() };
    const watermark = report.at.getTime();
    const event =
      report.status === 'delivered'
        ? messengerDelivery({ ...who, mids: [report.provider_message_id], watermark })
        : messengerRead({ ...who, watermark });
    const payload = messengerWebhook({
      object: report.channel === 'instagram' ? 'instagram' : 'page',
      account: report.message.from,
      time: watermark,
      messaging: [event],
    });
    return signedMetaWebhook(payload, credentials.app_secret);
  },
};
