/** The webhook gateway: provider webhooks in, verified and stored before any 2xx (DESIGN §8). */
import { messengerInbound } from '@comms/adapter-messenger';
import { sendgridEvents, sendgridInbound } from '@comms/adapter-sendgrid';
import { twilioInbound, twilioStatus } from '@comms/adapter-twilio';
import { whatsappInbound } from '@comms/adapter-whatsapp';
import { problemResponse, type Runtime } from '@comms/core/platform';
import { Hono } from 'hono';
import { handleMetaHandshake, handleWebhook } from './webhook.js';

// Twilio treats the response body as TwiML; an empty <Response/> sends no auto-reply.
const twiml = () =>
  new Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', {
    status: 200,
    headers: { 'content-type': 'text/xml' },
  });

export function createGatewayApp(runtime: Runtime) {
  const app = new Hono();
  // Body limit (413): in readWebhook, which reads the bytes once for the signature and the parser.
  app.onError((err) => {
    runtime.log.error({ err }, 'gateway error');
    return problemResponse(503, 'the webhook could not be stored; retry later', undefined, { 'retry-after': '5' });
  });

  const meta = ['whatsapp'] as const;
  const graph = ['messenger', 'instagram'] as const;
  const twilio = ['sms', 'twilio_whatsapp'] as const;

  app.get('/webhooks/:tenant/whatsapp', (c) => handleMetaHandshake(runtime, c, meta));
  app.post('/webhooks/:tenant/whatsapp', (c) =>
    handleWebhook(runtime, c, { receipt: 'whatsapp', adapter: whatsappInbound, providers: meta }),
  );
  app.get('/webhooks/:tenant/messenger', (c) => handleMetaHandshake(runtime, c, graph));
  app.post('/webhooks/:tenant/messenger', (c) =>
    handleWebhook(runtime, c, { receipt: 'messenger', adapter: messengerInbound, providers: graph }),
  );
  app.post('/webhooks/:tenant/twilio', (c) =>
    handleWebhook(runtime, c, { receipt: 'twilio', adapter: twilioInbound, providers: twilio, ok: twiml }),
  );
  app.post('/webhooks/:tenant/twilio/status', (c) =>
    handleWebhook(runtime, c, { receipt: 'twilio_status', adapter: twilioStatus, providers: twilio }),
  );
  app.post('/webhooks/:tenant/sendgrid/inbound', (c) =>
    handleWebhook(runtime, c, { receipt: 'sendgrid_inbound', adapter: sendgridInbound, providers: ['email'] }),
  );
  app.post('/webhooks/:tenant/sendgrid/events', (c) =>
    handleWebhook(runtime, c, {
      receipt: 'sendgrid_events',
      adapter: sendgridEvents,
      providers: ['email'],
      accountless: true,
    }),
  );
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.notFound((c) => problemResponse(404, `no webhook route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  return app;
}

type Fetch = (req: Request, env?: object) => Response | Promise<Response>;

/**
 * One port for the gateway and another app, as `npm start` serves them: provider webhooks to the gateway,
 * everything else to `other`. Node's env (`{ incoming, outgoing }`) goes along, so the gateway reads the
 * webhook's bytes straight from Node's request.
 */
export function routeWebhooks(gateway: Hono, other: Fetch): Fetch {
  return (req, env) => (new URL(req.url).pathname.startsWith('/webhooks/') ? gateway.fetch(req, env) : other(req, env));
}
