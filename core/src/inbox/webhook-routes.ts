/**
 * The gateway's webhook routes (DESIGN §8), in one place: the gateway serves them, the worker names the
 * Twilio status route in its sends' statusCallback, and the route's name is the receipt's `provider` in
 * webhook_events (and so its dedupe scope).
 */
export const WEBHOOK_ROUTES = {
  whatsapp: 'whatsapp',
  messenger: 'messenger',
  twilio: 'twilio',
  twilio_status: 'twilio/status',
  sendgrid_inbound: 'sendgrid/inbound',
  sendgrid_events: 'sendgrid/events',
  ses: 'ses',
} as const;
export type WebhookRoute = keyof typeof WEBHOOK_ROUTES;

/** The route's path for a tenant: `/webhooks/{tenant}/…`; with `':tenant'` it is the router's pattern. */
export function webhookPath(tenant: string, route: WebhookRoute): string {
  return `/webhooks/${tenant}/${WEBHOOK_ROUTES[route]}`;
}

/** Every path below this prefix is the gateway's. */
export const WEBHOOK_PREFIX = '/webhooks/';
