/** The Graph API pieces the WhatsApp and Messenger/Instagram adapters share. */
export { graphError, metaHandshake, postGraph, verifyHubSignature } from './graph.js';
export { type HttpReply, httpSend } from './http.js';
export { streamDownload } from './media.js';
export { hubSignature, signedMetaHeaders, signedMetaWebhook } from './signature.js';
