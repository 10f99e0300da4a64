/** The internal event bus's contract: one vocabulary for WebSocket frames and outgoing webhooks (DESIGN §10). */
import { z } from 'zod';
import type { Logger } from '../logger.js';

export const EventType = z.enum([
  'message_received',
  'message_sent',
  'message_delivered',
  'message_read',
  'message_failed',
  /** A message changed after it arrived: an attachment's file was stored, or could not be. */
  'message_updated',
  'conversation_created',
  'conversation_updated',
  'conversation_archived',
  'conversation_assigned',
  'conversation_qualified',
  'channel_created',
  'channel_updated',
  'channel_deleted',
  'member_joined',
  'member_left',
  'entry_created',
  'entry_edited',
  'entry_deleted',
  'reaction_added',
  'reaction_removed',
  'typing',
  'read',
  'mention_created',
  // Tenant admins only (`adminsOnly`): an outgoing webhook endpoint was disabled (issue 15).
  'webhook_endpoint_disabled',
]);
export type EventType = z.infer<typeof EventType>;

/** An event as services publish it. `channel_id` scopes chat events; inbox events have none. */
export interface DomainEvent {
  type: EventType;
  tenant: string;
  data: Record<string, unknown>;
  /** Chat events: the channel whose members receive it. */
  channelId?: number;
  /** Only these users receive it (direct notices such as `read` of one user's own state). */
  userIds?: string[];
  /** Ephemeral events (typing) are delivered live but never stored for replay. */
  ephemeral?: boolean;
  /** Only the tenant's admins receive it (notices about the tenant's configuration). */
  adminsOnly?: boolean;
}

/**
 * An event as subscribers see it. `id` increases within its tenant and is what a client sends back as
 * `?last_event_id=`; ephemeral events carry `''` (they are not a position in the tenant's history).
 */
export type PublishedEvent = DomainEvent & { id: string };

/** Event ids look like Redis stream ids, `<ms>-<seq>`, in both modes; anything else is not one of ours. */
export const EVENT_ID = /^\d{1,16}-\d{1,16}$/;

/** Orders two event ids (`<ms>-<seq>`). */
export function compareEventIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

export interface EventBus {
  /**
   * Gives the event its id, stores it for replay (unless ephemeral) and fans it out to the subscribers of
   * every instance, in id order within a tenant. Never throws: the write the event describes has already
   * happened. Resolves with the published event, or null when it could not be stored in time (the Redis bus
   * keeps retrying it in the background for a bounded time, then logs it as lost).
   */
  publish(event: DomainEvent): Promise<PublishedEvent | null>;
  /**
   * Every event of every tenant published from now on, in id order within a tenant (an event published
   * before the call, here or elsewhere, is for `replay`, not for live delivery). `onGap` is called when
   * this process may have missed live events (Redis was away longer than the live buffer covers): whoever
   * forwards events must resynchronize (the WebSocket closes its sockets, and clients come back with
   * `?last_event_id=`).
   * Returns the function that unsubscribes.
   */
  subscribe(handler: (event: PublishedEvent) => void, options?: { onGap?: () => void }): () => void;
  /**
   * The tenant's stored (non-ephemeral) events after `afterId`, oldest first; `gap` when `afterId` is older
   * than the replay window, from before a restart of the embedded bus, newer than any id given, or not an id.
   */
  replay(tenant: string, afterId: string): Promise<PublishedEvent[] | 'gap'>;
  /** Stores what is still pending (briefly), then stops. */
  close(): Promise<void>;
}

/**
 * How much history `?last_event_id=` can replay, per tenant. An event leaves the window only when it is
 * both older than `maxAgeMs` and not among the last `maxEvents` (DESIGN §10: at least 10 minutes and at
 * least 10,000 events). `ceiling` bounds memory when a tenant publishes faster than that: past it the
 * oldest events go even if younger than `maxAgeMs`.
 */
export interface ReplayWindow {
  maxEvents: number;
  maxAgeMs: number;
  ceiling?: number;
}

export const DEFAULT_REPLAY_WINDOW: Required<ReplayWindow> = {
  maxEvents: 10_000,
  maxAgeMs: 10 * 60_000,
  ceiling: 200_000,
};

/** Calls every handler, so that one that throws neither stops the others nor reaches the publisher. */
export function emitTo(handlers: Iterable<(event: PublishedEvent) => void>, event: PublishedEvent, log?: Logger): void {
  for (const handler of handlers) {
    try {
      handler(event);
    } catch (err) {
      log?.error({ err, type: event.type, tenant: event.tenant }, 'event subscriber failed');
    }
  }
}
