/** Messenger and Instagram (same Graph webhook shape): verify, parse, send. */
import type { InboundAdapter } from '@comms/adapter-kit';
import { metaHandshake, verifyHubSignature } from '@comms/adapter-meta-graph';
import { messengerAccountIdentifiers, parseMessenger } from './parse.js';

export { messengerAccountIdentifiers, parseMessenger } from './parse.js';
export { sendMessenger } from './send.js';

/** The gateway's adapter for POST /webhooks/{tenant}/messenger (Messenger and Instagram). */
export const messengerInbound = {
  channels: ['messenger', 'instagram'],
  handshake: metaHandshake,
  accountIdentifiers: messengerAccountIdentifiers,
  verify: verifyHubSignature,
  parse: parseMessenger,
} satisfies InboundAdapter;
export { messengerSandbox } from './sandbox.js';
export { fetchMessengerMedia } from './media.js';
