/** Who receives which event (DESIGN §10), as pure functions the hub applies to every open socket. */
import { isTenantAdmin, type Principal } from '../platform/auth.js';
import type { PublishedEvent } from '../platform/bus/index.js';

/** One open socket as far as delivery is concerned. */
export interface Subscriber {
  tenant: string;
  principal: Principal;
  /** The channels it is a member of: loaded at connect, then kept current by membership events. */
  channels: Set<number>;
}

/** Inbox events (conversations, messages): every role of the tenant may use the inbox for now. */
export function mayUseInbox(_principal: Principal): boolean {
  return true;
}

/** Whether the subscriber may see the event, given its current memberships. */
export function mayReceive(sub: Subscriber, event: PublishedEvent): boolean {
  if (event.tenant !== sub.tenant) return false;
  if (event.userIds && !event.userIds.includes(sub.principal.userId)) return false;
  if (event.adminsOnly && !isTenantAdmin(sub.principal)) return false;
  if (event.channelId !== undefined) return sub.channels.has(event.channelId);
  return mayUseInbox(sub.principal);
}

function channelOf(event: PublishedEvent): number | undefined {
  const fromData = (event.data as { channel_id?: unknown }).channel_id;
  return typeof fromData === 'number' ? fromData : event.channelId;
}

/**
 * Applies the event to the subscriber's memberships and says whether to deliver it, so that membership
 * changes take effect on open sockets at once: a member who joins receives its `member_joined` and what
 * follows; a member who leaves (or is removed) receives its `member_left` and nothing after; a deleted
 * channel's `channel_deleted` reaches its members, then the channel is dropped.
 */
export function admit(sub: Subscriber, event: PublishedEvent): boolean {
  if (event.tenant !== sub.tenant) return false;
  const channelId = channelOf(event);
  const self = (event.data as { user_id?: unknown }).user_id === sub.principal.userId;
  if (event.type === 'member_joined' && self && channelId !== undefined) sub.channels.add(channelId);
  const deliver = mayReceive(sub, event);
  if (channelId !== undefined && ((event.type === 'member_left' && self) || event.type === 'channel_deleted'))
    sub.channels.delete(channelId);
  return deliver;
}
