import { describe, expect, it } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import { addMessage, applyEvent, placeConversation, upsertEntry, upsertMessage } from './cache';
import type { Conversation, Entry, Message } from './types';

const msg = (id: number, status: Message['status']) => ({ id, conversation_id: 1, status }) as Message;

describe('the live cache', () => {
  it('adds new messages in id order and moves statuses forward only', () => {
    expect(upsertMessage([msg(1, 'read'), msg(3, 'sent')], msg(2, 'pending'))?.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(upsertMessage([msg(3, 'sent')], msg(3, 'delivered'))?.[0]?.status).toBe('delivered');
    expect(upsertMessage([msg(3, 'read')], msg(3, 'delivered'))?.[0]?.status).toBe('read');
    expect(upsertMessage([msg(3, 'sent')], msg(3, 'failed'))?.[0]?.status).toBe('failed');
    expect(upsertMessage(undefined, msg(3, 'sent'))).toBeUndefined();
  });
  it("adds a send's answer only when no live event put the message there first", () => {
    expect(addMessage([msg(3, 'failed')], msg(3, 'pending'))?.[0]?.status).toBe('failed');
    expect(addMessage([msg(3, 'sent')], msg(3, 'pending'))?.[0]?.status).toBe('sent');
    expect(addMessage([msg(1, 'read')], msg(3, 'pending'))?.map((m) => [m.id, m.status])).toEqual([
      [1, 'read'],
      [3, 'pending'],
    ]);
  });
  it('replaces edited entries in place', () => {
    const e = (id: number, content: string) => ({ id, content }) as Entry;
    const c = upsertEntry({ entries: [e(1, 'a'), e(2, 'b')], older: null }, e(2, 'b, edited'));
    expect(c?.entries.map((x) => x.content)).toEqual(['a', 'b, edited']);
  });
});

describe('message_updated', () => {
  it('shows an attachment once its file is stored, in the open conversation', () => {
    const qc = new QueryClient();
    const pending = { ...msg(7, 'delivered'), attachments: [{ status: 'pending', mime_type: 'image/png' }] };
    qc.setQueryData(['messages', 1], [msg(6, 'read'), pending]);
    const stored = {
      ...pending,
      attachments: [{ status: 'stored', mime_type: 'image/png', url: '/api/v1/x/media/3' }],
    };
    applyEvent(qc, { id: '1-0', type: 'message_updated', data: stored }, 'me');
    const list = qc.getQueryData<Message[]>(['messages', 1]);
    expect(list?.map((m) => m.id)).toEqual([6, 7]);
    expect(list?.[1]?.attachments).toEqual(stored.attachments);
    // An older message, not among those shown, is not added by its update.
    applyEvent(qc, { id: '2-0', type: 'message_updated', data: { ...stored, id: 2 } }, 'me');
    expect(qc.getQueryData<Message[]>(['messages', 1])?.map((m) => m.id)).toEqual([6, 7]);
  });
});

describe('conversations from events', () => {
  const conv = (id: number) => ({ id, status: 'new', is_spam: false }) as Conversation;
  const pages = (...ids: number[][]) => ({
    pages: ids.map((p) => ({ data: p.map(conv), next_cursor: null })),
    pageParams: ids.map(() => null),
  });
  it('moves an updated conversation to the top, and adds a new one only where asked', () => {
    const ids = (d: ReturnType<typeof placeConversation>) => d?.pages.map((p) => p.data.map((c) => c.id));
    expect(ids(placeConversation(pages([1, 2], [3]), conv(3), false))).toEqual([[3, 1, 2], []]);
    expect(ids(placeConversation(pages([1, 2]), conv(9), false))).toEqual([[1, 2]]);
    expect(ids(placeConversation(pages([1, 2]), conv(9), true))).toEqual([[9, 1, 2]]);
    expect(placeConversation(undefined, conv(9), true)).toBeUndefined();
  });
});
