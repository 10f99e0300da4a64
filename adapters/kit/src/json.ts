/** JSON webhook bodies, parsed once per request. */
import { MalformedPayloadError, type RawRequest } from './inbound.js';

const parsedBodies = new WeakMap<RawRequest, unknown>();

/**
 * The body as JSON, parsed once per request (`accountIdentifiers` and `parse` both read it), or throws
 * MalformedPayloadError. Callers must not mutate what it returns; the adapters validate it with zod,
 * which builds new objects.
 */
export function parseJsonBody(req: RawRequest): unknown {
  if (parsedBodies.has(req)) return parsedBodies.get(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(req.body));
  } catch {
    throw new MalformedPayloadError('the body is not JSON');
  }
  parsedBodies.set(req, parsed);
  return parsed;
}
