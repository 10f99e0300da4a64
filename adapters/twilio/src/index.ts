/** Twilio SMS and WhatsApp: verify (twilio's validateRequest), parse, send (twilio SDK). */
import type { InboundAdapter } from '@comms/adapter-kit';
import { parseTwilioInbound, parseTwilioStatus, twilioInboundIdentifiers, twilioStatusIdentifiers } from './parse.js';
import { verifyTwilio } from './verify.js';

export { parseTwilioInbound, parseTwilioStatus } from './parse.js';
export { sendTwilioSms, sendTwilioWhatsApp } from './send.js';
export { verifyTwilio } from './verify.js';

/** POST /webhooks/{tenant}/twilio: inbound SMS, MMS and WhatsApp. */
export const twilioInbound: InboundAdapter = {
  accountIdentifiers: twilioInboundIdentifiers,
  verify: verifyTwilio,
  parse: parseTwilioInbound,
};

/** POST /webhooks/{tenant}/twilio/status: status callbacks of our outbound messages. */
export const twilioStatus: InboundAdapter = {
  accountIdentifiers: twilioStatusIdentifiers,
  verify: verifyTwilio,
  parse: parseTwilioStatus,
};
