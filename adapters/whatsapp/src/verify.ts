/** WhatsApp Cloud API webhooks are signed like every Graph webhook: X-Hub-Signature-256 with the app secret. */
export { verifyHubSignature as verifyWhatsApp } from '@comms/adapter-meta-graph';
