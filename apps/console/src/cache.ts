/**
 * Live events applied to the query cache: messages and entries are patched in place (so a status tick or a new
 * line shows at once, without a refetch), lists whose order or counts change are refetched.
 */
import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import type { Page } from './api';
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

/**
 * A message from an HTTP answer (the send's `pending`) added to the list, unless a live event already put it there:
 * the event is newer than the answer it overtook (a `message_failed` must not turn back into `pending`).
 */
export function addMessage(list: Message[] | undefined, m: Message): Message[] | undefined {
  if (!list || list.some((x) => x.id === m.id)) return list;
  return [...list, m].sort((a, b) => a.id - b.id);
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

type ConversationPages = InfiniteData<Page<Conversation>, string | null>;

/** Whether a list's query asks for nothing but the default (no filter, no search). */
function unfiltered(query: unknown): boolean {
  return !query || Object.values(query as Record<string, unknown>).every((v) => v === undefined);
}

/**
 * A conversation from an event placed in the cached lists at once (moved to the top when it is newer), so it
 * shows without waiting for a refetch; the refetch that follows settles filters and order.
 */
export function placeConversation(data: ConversationPages | undefined, c: Conversation, showNew: boolean) {
  if (!data?.pages.length) return data;
  const present = data.pages.some((p) => p.data.some((x) => x.id === c.id));
  if (!present && !showNew) return data;
  const pages = data.pages.map((p) => ({ ...p, data: p.data.filter((x) => x.id !== c.id) }));
  pages[0] = { ...pages[0]!, data: [c, ...pages[0]!.data] };
  return { ...data, pages };
}

function showConversation(qc: QueryClient, c: Conversation) {
  for (const [key, data] of qc.getQueriesData<ConversationPages>({ queryKey: ['conversations'] })) {
    const visible = unfiltered(key[1]) && c.status !== 'archived' && !c.is_spam;
    qc.setQueryData(key, placeConversation(data, c, visible));
  }
  void qc.invalidateQueries({ queryKey: ['conversations'] });
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
      const c = (d as { conversation?: Conversation }).conversation;
      if (e.type === 'message_received' && c) showConversation(qc, c);
      return;
    }
    case 'message_updated': {
      // An attachment's file was stored (or could not be): the message again, whole.
      const m = d as unknown as Message;
      const key = ['messages', m.conversation_id];
      // Only a message the list shows: an older one settling must not appear among the latest.
      qc.setQueryData<Message[]>(key, (list) => (list?.some((x) => x.id === m.id) ? upsertMessage(list, m) : list));
      // A list being loaded now may answer with the message as it was before the change: load it again.
      if (qc.isFetching({ queryKey: key })) void qc.invalidateQueries({ queryKey: key });
      return;
    }
    case 'conversation_created':
    case 'conversation_updated':
    case 'conversation_archived':
    case 'conversation_assigned':
    case 'conversation_qualified': {
      const c = d as unknown as Conversation;
      if (typeof c.id !== 'number') return;
      qc.setQueryData(['conversation', c.id], c);
      showConversation(qc, c);
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
