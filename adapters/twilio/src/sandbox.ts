/**
 * Twilio SMS and WhatsApp in the sandbox transport: a Message SID for each send, and Twilio's signed status
 * callbacks, posted where the send's statusCallback pointed. (Twilio reports `read` for WhatsApp only; the sandbox
 * plays it for SMS too, so the demo shows every step on every channel.)
 */
import type { ProviderSandbox } from '@comms/adapter-kit';
import { newMessageSid, signedTwilioWebhook, twilioStatusParams } from './webhook.js';

export const twilioSandbox: ProviderSandbox = {
  messageId: newMessageSid,
  statusWebhook(report, credentials) {
    if (!credentials.auth_token) throw new Error('the account has no auth_token to sign its status callbacks with');
    const address = (n: string) =>
      report.channel === 'twilio_whatsapp' ? `whatsapp:${n.replace(/^whatsapp:/i, '')}` : n;
    const params = twilioStatusParams({
      sid: report.provider_message_id,
      status: report.status,
      from: address(report.message.from),
      to: address(report.message.to),
      ...(credentials.account_sid ? { accountSid: credentials.account_sid } : {}),
    });
    return signedTwilioWebhook(params, { url: report.url, authToken: credentials.auth_token });
  },
};
