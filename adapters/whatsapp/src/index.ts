/** WhatsApp Cloud API: verify, parse, send. */
import type { InboundAdapter } from '@comms/adapter-kit';
import { metaHandshake } from '@comms/adapter-meta-graph';
import { parseWhatsApp, whatsappAccountIdentifiers } from './parse.js';
import { verifyWhatsApp } from './verify.js';

export { parseWhatsApp, whatsappAccountIdentifiers } from './parse.js';
export { sendWhatsApp } from './send.js';
export { verifyWhatsApp } from './verify.js';

/** The gateway's adapter for POST /webhooks/{tenant}/whatsapp. */
export const whatsappInbound = {
  channels: ['whatsapp'],
  handshake: metaHandshake,
  accountIdentifiers: whatsappAccountIdentifiers,
  verify: verifyWhatsApp,
  parse: parseWhatsApp,
} satisfies InboundAdapter;
export { whatsappSandbox } from './sandbox.js';
export { fetchWhatsAppMedia } from './media.js';
