/**
 * Twilio webhooks as Twilio posts them (application/x-www-form-urlencoded, signed with X-Twilio-Signature), for
 * the tests and the simulator. Not exported from the package's main entry.
 * - inbound messages: https://www.twilio.com/docs/messaging/guides/webhook-request
 * - WhatsApp extras (ProfileName, WaId): https://www.twilio.com/docs/whatsapp/api#inbound-message-parameters
 * - status callbacks: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 * - signature: https://www.twilio.com/docs/usage/webhooks/webhooks-security
 */
import { EXAMPLE_ACCOUNT_SID, newMessageSid } from './webhook.js';

// Signing and the status callbacks are production code (the sandbox transport plays status callbacks back).
export {
  newMessageSid,
  signedTwilioWebhook,
  type TwilioStatusOptions,
  twilioSignature,
  twilioStatusParams,
} from './webhook.js';

export interface TwilioInboundOptions {
  /** The sender: `+E.164`, or `whatsapp:+E.164` for WhatsApp. */
  from: string;
  /** Our number the message was sent to, in the same form. */
  to: string;
  body: string;
  /** The MessageSid; a new one by default. */
  sid?: string;
  accountSid?: string;
  /** WhatsApp only: the sender's profile name. */
  profileName?: string;
}

/** The parameters of an inbound SMS, or of a WhatsApp message when `from` has the `whatsapp:` prefix. */
export function twilioInboundParams(o: TwilioInboundOptions): Record<string, string> {
  const sid = o.sid ?? newMessageSid();
  const whatsapp = o.from.startsWith('whatsapp:');
  return {
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    AccountSid: o.accountSid ?? EXAMPLE_ACCOUNT_SID,
    From: o.from,
    To: o.to,
    Body: o.body,
    NumMedia: '0',
    NumSegments: '1',
    SmsStatus: 'received',
    ApiVersion: '2010-04-01',
    ...(whatsapp ? { WaId: o.from.replace(/^whatsapp:\+?/, '') } : {}),
    ...(whatsapp && o.profileName !== undefined ? { ProfileName: o.profileName } : {}),
  };
}
