/** The Graph API pieces the WhatsApp and Messenger/Instagram adapters share. */
export { graphError, postGraph, verifyHubSignature } from './graph.js';
export { type HttpReply, httpSend } from './http.js';
