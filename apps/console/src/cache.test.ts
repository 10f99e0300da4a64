import { describe, expect, it } from 'vitest';
import { addMessage, placeConversation, upsertEntry, upsertMessage } from './cache';
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
