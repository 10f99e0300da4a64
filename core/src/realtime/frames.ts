/** The WebSocket frames (DESIGN §10), as zod schemas: what clients may send, and what the server sends. */
import { z } from 'zod';

/** `{"type":"typing","channel_id":1}`: the sender is typing in a channel it is a member of. */
export const TypingFrame = z.object({ type: z.literal('typing'), channel_id: z.number().int().positive() });
export type TypingFrame = z.infer<typeof TypingFrame>;

/** `{"type":"ping"}`: answered with `{"type":"pong"}` (an application-level check on top of protocol pings). */
export const PingFrame = z.object({ type: z.literal('ping') });
export type PingFrame = z.infer<typeof PingFrame>;

export const ClientFrame = z.discriminatedUnion('type', [TypingFrame, PingFrame]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/**
 * An event: `id` is the position to send back as `?last_event_id=`. Ephemeral events (typing) have no `id`:
 * they are not part of the tenant's history and are never replayed.
 */
export const EventFrame = z.object({
  type: z.string(),
  id: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});
export type EventFrame = z.infer<typeof EventFrame>;

/** The client's `last_event_id` is outside the replay window (or unknown): reload through REST, then go on live. */
export const ResyncRequiredFrame = z.object({ type: z.literal('resync_required') });
export type ResyncRequiredFrame = z.infer<typeof ResyncRequiredFrame>;

export const PongFrame = z.object({ type: z.literal('pong') });
export type PongFrame = z.infer<typeof PongFrame>;

/** A client frame the server could not act on; the socket stays open. */
export const ErrorFrame = z.object({
  type: z.literal('error'),
  code: z.enum(['bad_frame', 'forbidden', 'not_found', 'failed']),
  detail: z.string(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

export const ServerFrame = z.union([EventFrame, ResyncRequiredFrame, PongFrame, ErrorFrame]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** Reads a client frame; the error says what was wrong, for the `error` frame. */
export function parseClientFrame(raw: string): { ok: true; frame: ClientFrame } | { ok: false; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, detail: 'frames are JSON objects' };
  }
  const parsed = ClientFrame.safeParse(json);
  if (parsed.success) return { ok: true, frame: parsed.data };
  return {
    ok: false,
    detail: 'expected {"type":"ping"} or {"type":"typing","channel_id":<channel id>}',
  };
}
