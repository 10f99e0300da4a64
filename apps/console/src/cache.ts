/**
 * Live events applied to the query cache: messages and entries are patched in place (so a status tick or a new
 * line shows at once, without a refetch), lists whose order or counts change are refetched.
 */
import type { QueryClient } from '@tanstack/react-query';
import type { LiveEvent } from './live';
import { clearTyping, noteTyping } from './typing';
import type { Conversation, Entry, Message } from './types';

const STATUS_ORDER = ['pending', 'sent', 'delivered', 'read'];

/** A message merged into a conversation's list (ascending by id); a status never moves back. */
export function upsertMessage(list: Message[] | undefined, m: Message): Message[] | undefined {
  if (!list) return list;
  const i = list.findIndex((x) => x.id === m.id);
  if (i === -1) return [...list, m].sort((a, b) => a.id - b.id);
  const old = list[i]!;
  const backwards =
    old.status !== 'failed' &&
    m.status !== 'failed' &&
    STATUS_ORDER.indexOf(m.status) < STATUS_ORDER.indexOf(old.status);
  const next = list.slice();
  next[i] = backwards ? { ...m, status: old.status } : m;
  return next;
}

export interface EntryCache {
  entries: Entry[];
  older: string | null;
}

export function upsertEntry(cache: EntryCache | undefined, e: Entry): EntryCache | undefined {
  if (!cache) return cache;
  const i = cache.entries.findIndex((x) => x.id === e.id);
  const entries = cache.entries.slice();
  if (i === -1) entries.push(e);
  else entries[i] = e;
  entries.sort((a, b) => a.id - b.id);
  return { ...cache, entries };
}

export function applyEvent(qc: QueryClient, e: LiveEvent, me: string): void {
  const d = e.data;
  switch (e.type) {
    case 'message_received':
    case 'message_sent':
    case 'message_delivered':
    case 'message_read':
    case 'message_failed': {
      const m = d as unknown as Message;
      qc.setQueryData<Message[]>(['messages', m.conversation_id], (list) => upsertMessage(list, m));
      if (e.type === 'message_received') void qc.invalidateQueries({ queryKey: ['conversations'] });
      return;
    }
    case 'conversation_created':
    case 'conversation_updated':
    case 'conversation_archived':
    case 'conversation_assigned':
    case 'conversation_qualified': {
      const c = d as unknown as Conversation;
      if (typeof c.id === 'number') qc.setQueryData(['conversation', c.id], c);
      void qc.invalidateQueries({ queryKey: ['conversations'] });
      return;
    }
    case 'entry_created':
    case 'entry_edited':
    case 'entry_deleted': {
      const entry = d as unknown as Entry;
      qc.setQueryData<EntryCache>(['entries', entry.channel_id], (c) => upsertEntry(c, entry));
      if (e.type === 'entry_created' && entry.user_id) clearTyping(entry.channel_id, entry.user_id);
      if (entry.user_id !== me) void qc.invalidateQueries({ queryKey: ['channels'] });
      return;
    }
    case 'reaction_added':
    case 'reaction_removed': {
      const { channel_id, entry_id, reactions } = d as {
        channel_id: number;
        entry_id: number;
        reactions: Entry['reactions'];
      };
      qc.setQueryData<EntryCache>(['entries', channel_id], (c) =>
        c ? { ...c, entries: c.entries.map((x) => (x.id === entry_id ? { ...x, reactions } : x)) } : c,
      );
      return;
    }
    case 'typing': {
      const { channel_id, user_id, expires_in_ms } = d as {
        channel_id: number;
        user_id: string;
        expires_in_ms?: number;
      };
      if (user_id !== me) noteTyping(channel_id, user_id, expires_in_ms);
      return;
    }
    case 'member_joined':
    case 'member_left':
      void qc.invalidateQueries({ queryKey: ['members'] });
      void qc.invalidateQueries({ queryKey: ['channels'] });
      return;
    default:
      // channel_created/updated/deleted, read, mention_created, and events this console does not show.
      if (e.type.startsWith('channel_') || e.type === 'read' || e.type === 'mention_created')
        void qc.invalidateQueries({ queryKey: ['channels'] });
  }
}
