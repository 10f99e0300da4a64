/** SendGrid: Inbound Parse and the Event Webhook (verify, parse), and @sendgrid/mail for replies. */
import type { InboundAdapter } from '@comms/adapter-kit';
import { parseSendGridEvents, parseSendGridInbound, sendgridInboundIdentifiers } from './parse.js';
import { verifySendGridEvents, verifySendGridInbound } from './verify.js';

export { normalizeMessageId } from '@comms/adapter-email';
export { parseSendGridEvents, parseSendGridInbound } from './parse.js';
export { sendSendGrid } from './send.js';
export { verifySendGridEvents, verifySendGridInbound } from './verify.js';

/** POST /webhooks/{tenant}/sendgrid/inbound?token=… */
export const sendgridInbound = {
  channels: ['email'],
  accountIdentifiers: sendgridInboundIdentifiers,
  verify: verifySendGridInbound,
  parse: parseSendGridInbound,
} satisfies InboundAdapter;

/** POST /webhooks/{tenant}/sendgrid/events: events name no account; the gateway tries the tenant's email accounts. */
export const sendgridEvents = {
  channels: ['email'],
  accountless: true,
  accountIdentifiers: () => [],
  verify: verifySendGridEvents,
  parse: parseSendGridEvents,
} satisfies InboundAdapter;
export { sendgridSandbox } from './sandbox.js';
