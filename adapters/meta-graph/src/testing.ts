/**
 * Signing Meta webhooks the way Meta does, for the simulator, tests and benchmarks (the production code in
 * signature.ts, which the sandbox transport uses too).
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads
 */
export { hubSignature, signedMetaHeaders, signedMetaWebhook } from './signature.js';
