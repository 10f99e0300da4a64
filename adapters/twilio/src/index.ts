/** Twilio SMS and WhatsApp: verify (twilio's validateRequest), parse, send (twilio SDK). */
import type { InboundAdapter } from '@comms/adapter-kit';
import { parseTwilioInbound, parseTwilioStatus, twilioInboundIdentifiers, twilioStatusIdentifiers } from './parse.js';
import { verifyTwilio } from './verify.js';

export { parseTwilioInbound, parseTwilioStatus } from './parse.js';
export { sendTwilioSms, sendTwilioWhatsApp } from './send.js';
export { verifyTwilio } from './verify.js';

const TWILIO_CHANNELS = ['sms', 'twilio_whatsapp'] as const;

/**
 * Twilio reads the answer to an inbound message as TwiML; an empty <Response/> sends no auto-reply.
 * https://www.twilio.com/docs/messaging/twiml
 */
const EMPTY_TWIML = {
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
};

/** POST /webhooks/{tenant}/twilio: inbound SMS, MMS and WhatsApp. */
export const twilioInbound = {
  channels: TWILIO_CHANNELS,
  acknowledgement: EMPTY_TWIML,
  accountIdentifiers: twilioInboundIdentifiers,
  verify: verifyTwilio,
  parse: parseTwilioInbound,
} satisfies InboundAdapter;

/** POST /webhooks/{tenant}/twilio/status: status callbacks of our outbound messages. */
export const twilioStatus = {
  channels: TWILIO_CHANNELS,
  accountIdentifiers: twilioStatusIdentifiers,
  verify: verifyTwilio,
  parse: parseTwilioStatus,
} satisfies InboundAdapter;
export { twilioSandbox } from './sandbox.js';
export { fetchTwilioMedia } from './media.js';
