/**
 * One webhook request as HTTP (DESIGN §8): read the bytes, hand them to core's inbound pipeline, and turn
 * its outcome into the answer. Nothing is answered 2xx before the pipeline says the webhook is stored.
 */
import type { InboundAdapter } from '@comms/adapter-kit';
import type { InboundPipeline, ReceiveOutcome, WebhookRoute } from '@comms/core/inbox';
import { readBody, refuseTooLarge } from '@comms/core/http';
import { problemResponse, type Runtime, statusOf } from '@comms/core/platform';
import type { Context } from 'hono';

export async function handleWebhook(
  runtime: Runtime,
  pipeline: InboundPipeline,
  c: Context,
  route: WebhookRoute,
  adapter: InboundAdapter,
): Promise<Response> {
  // The body first: a body over the limit is refused before anything is looked up.
  const limit = runtime.config.WEBHOOK_BODY_LIMIT;
  let read: Awaited<ReturnType<typeof readBody>>;
  try {
    read = await readBody(c, limit);
  } catch (err) {
    // The sender went away mid-body: nobody is waiting for the answer, and nothing was stored.
    runtime.log.info({ webhook: route, err: String(err) }, 'webhook body not received');
    return problemResponse(400, 'the request body could not be read');
  }
  if (read === 'too-large') return refuseTooLarge(c, `the webhook body is larger than ${limit} bytes`);

  const url = new URL(c.req.url);
  const result = await pipeline.receive(route, adapter, {
    tenant: c.req.param('tenant') ?? '',
    target: url.pathname + url.search,
    headers: read.headers,
    body: read.body,
  });
  if (result.outcome !== 'stored') return refusal(result);
  const ack = adapter.acknowledgement;
  if (ack) return new Response(ack.body, { status: 200, headers: { 'content-type': ack.contentType } });
  return c.json({ received: result.events }, 200);
}

/** A provider's GET subscription handshake: echo the challenge when the verify token is one of ours. */
export async function handleHandshake(pipeline: InboundPipeline, c: Context, adapter: InboundAdapter) {
  const result = await pipeline.handshake(adapter, c.req.param('tenant') ?? '', new URL(c.req.url).searchParams);
  return result.outcome === 'challenge' ? c.text(result.body, 200) : refusal(result);
}

function refusal(result: Exclude<ReceiveOutcome, { outcome: 'stored' }>): Response {
  if (result.outcome === 'unavailable') return unavailable(result.detail);
  return problemResponse(statusOf(result.code), result.detail, result.errors);
}

export function unavailable(detail = 'the webhook could not be stored; retry later'): Response {
  return problemResponse(503, detail, undefined, { 'retry-after': '5' });
}
