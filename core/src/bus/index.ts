/** The internal event bus: one vocabulary for WebSocket frames and outgoing webhooks (DESIGN §10). */
import { EventEmitter } from 'node:events';
import { z } from 'zod';

export const EventType = z.enum([
  'message_received',
  'message_sent',
  'message_delivered',
  'message_read',
  'message_failed',
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
}

export interface EventBus {
  publish(event: DomainEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(handler: (event: DomainEvent) => void): () => void;
  close(): Promise<void>;
}

/** The embedded-mode bus: one process, no Redis. */
export function createInProcessBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    async publish(event) {
      emitter.emit('event', event);
    },
    subscribe(handler) {
      emitter.on('event', handler);
      return () => emitter.off('event', handler);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
