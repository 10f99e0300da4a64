/**
 * SendGrid in the sandbox transport: an X-Message-Id for each send, and the Event Webhook's ECDSA-signed
 * `delivered` and `open` events (`open` is what email has for "read"). Signing needs the private half of the
 * account's `event_public_key`: sandbox accounts carry it as the write-only credential `event_private_key`.
 */
import type { ProviderSandbox } from '@comms/adapter-kit';
import { newSendGridMessageId, sendgridEvent, sendgridPrivateKey, signedSendGridEvents } from './webhook.js';

export const sendgridSandbox: ProviderSandbox = {
  messageId: newSendGridMessageId,
  statusWebhook(report, credentials) {
    if (!credentials.event_private_key)
      throw new Error('the account has no event_private_key to sign its Event Webhook posts with');
    const event = sendgridEvent({
      event: report.status === 'delivered' ? 'delivered' : 'open',
      email: report.message.to,
      // SendGrid appends its own suffix to the send's X-Message-Id.
      sgMessageId: `${report.provider_message_id}.filter0001.sandbox.0`,
      timestamp: report.at,
    });
    return signedSendGridEvents([event], sendgridPrivateKey(credentials.event_private_key));
  },
};
