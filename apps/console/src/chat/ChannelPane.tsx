import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api } from '../api';
import { type EntryCache, upsertEntry } from '../cache';
import { ErrorNote } from '../components';
import { channelTitle, memberName, mentionSegments, plainText, shortTime } from '../format';
import { useSession } from '../live-context';
import { hrefOf, onLinkClick } from '../router';
import { useTypers } from '../typing';
import type { Channel, Entry, EntryPage, Member } from '../types';
import { ChatComposer } from './ChatComposer';

const QUICK_REACTIONS = ['👍', '❤️', '😄', '🎉'];

export function ChannelPane({ id, channel }: { id: number; channel: Channel | null }) {
  const session = useSession();
  const qc = useQueryClient();
  const entries = useQuery({
    queryKey: ['entries', id],
    queryFn: async (): Promise<EntryCache> => {
      const page = await api.get<EntryPage>(`/chat/channels/${id}/messages`, { limit: 50 });
      return { entries: page.data.slice().sort((a, b) => a.id - b.id), older: page.older_cursor };
    },
  });
  const members = useQuery({
    queryKey: ['members', id],
    queryFn: async () => (await api.get<{ data: Member[] }>(`/channels/${id}/members`, { limit: 200 })).data,
  });
  const older = useMutation({
    mutationFn: (before: string) => api.get<EntryPage>(`/chat/channels/${id}/messages`, { limit: 50, before }),
    onSuccess: (page) =>
      qc.setQueryData<EntryCache>(['entries', id], (c) =>
        c
          ? {
              entries: [...page.data, ...c.entries]
                .sort((a, b) => a.id - b.id)
                .filter((e, i, all) => all[i - 1]?.id !== e.id),
              older: page.older_cursor,
            }
          : c,
      ),
  });
  const list = entries.data?.entries ?? [];
  const people = members.data ?? [];
  const typers = useTypers(id);
  const [replyTo, setReplyTo] = useState<Entry | null>(null);

  // Read state, sent as the newest entry is seen (the tab visible, the channel open).
  const newest = list.at(-1)?.id ?? 0;
  const sentRead = useRef(0);
  useEffect(() => {
    const mark = () => {
      if (!newest || newest <= sentRead.current || document.visibilityState !== 'visible') return;
      if (channel && !channel.is_member) return;
      sentRead.current = newest;
      void api.post(`/chat/channels/${id}/read`, { entry_id: newest }).then(
        () => qc.invalidateQueries({ queryKey: ['channels'] }),
        () => {},
      );
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [id, newest, channel, qc]);

  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (list.length) end.current?.scrollIntoView({ block: 'end' });
  }, [list.length]);

  const back = hrefOf({ view: 'chat', id: null });
  const title = channel ? channelTitle(channel) : `Channel ${id}`;
  const join = useMutation({
    mutationFn: () => api.post(`/channels/${id}/members`, { user_id: session.userId }),
    onSuccess: () => qc.invalidateQueries(),
  });

  return (
    <section className="detail" aria-labelledby="channel-title">
      <header className="detail-head">
        <a className="back" href={back} onClick={(e) => onLinkClick(e, back)} aria-label="Back to the channels">
          ←
        </a>
        <div className="detail-title">
          <h2 id="channel-title">{title}</h2>
          <p className="muted small">
            {channel?.topic ? `${channel.topic} · ` : ''}
            {people.length} member{people.length === 1 ? '' : 's'}
          </p>
        </div>
      </header>
      <ErrorNote error={entries.error} />
      <ol className="messages chat" aria-label={`Messages in ${title}`}>
        {entries.data?.older && (
          <li className="more">
            <button type="button" className="ghost" onClick={() => older.mutate(entries.data!.older!)}>
              Load older messages
            </button>
          </li>
        )}
        {list.map((e) => (
          <EntryItem
            key={e.id}
            e={e}
            members={people}
            parent={e.reply_to_id ? list.find((x) => x.id === e.reply_to_id) : undefined}
            onReply={() => setReplyTo(e)}
          />
        ))}
        <li ref={end} aria-hidden="true" className="end" />
      </ol>
      <p className="typing small muted" aria-live="polite" data-testid="typing">
        {typers.length > 0 &&
          `${typers.map((u) => memberName(u, people)).join(', ')} ${typers.length === 1 ? 'is' : 'are'} typing…`}
      </p>
      {channel && !channel.is_member ? (
        <div className="composer">
          <button type="button" className="primary" onClick={() => join.mutate()}>
            Join this channel
          </button>
          <ErrorNote error={join.error} />
        </div>
      ) : (
        <ChatComposer
          channelId={id}
          members={people}
          replyTo={replyTo}
          onSent={(entry) => {
            qc.setQueryData<EntryCache>(['entries', id], (c) => upsertEntry(c, entry));
            setReplyTo(null);
          }}
          onCancelReply={() => setReplyTo(null)}
        />
      )}
    </section>
  );
}

function EntryItem(p: { e: Entry; members: Member[]; parent?: Entry; onReply: () => void }) {
  const { e, members } = p;
  const session = useSession();
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(e.content ?? '');
  const patch = (entry: Entry) => qc.setQueryData<EntryCache>(['entries', e.channel_id], (c) => upsertEntry(c, entry));
  const act = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: (res) => {
      if (res && typeof res === 'object' && 'entry_type' in res) patch(res as Entry);
      if (res && typeof res === 'object' && 'reactions' in res && 'entry_id' in res) {
        const r = res as { reactions: Entry['reactions'] };
        qc.setQueryData<EntryCache>(['entries', e.channel_id], (c) =>
          c ? { ...c, entries: c.entries.map((x) => (x.id === e.id ? { ...x, reactions: r.reactions } : x)) } : c,
        );
      }
    },
  });
  const author = memberName(e.user_id, members, session.userId);
  if (e.entry_type !== 'message')
    return (
      <li className="system small muted" data-entry={e.id}>
        {author} {e.entry_type === 'join' ? 'joined' : e.entry_type === 'leave' ? 'left' : e.content}
      </li>
    );
  const mine = e.user_id === session.userId;
  const react = (emoji: string) => {
    const has = e.reactions[emoji]?.includes(session.userId);
    act.mutate(() =>
      has
        ? api.del(`/chat/messages/${e.id}/reactions/${encodeURIComponent(emoji)}`)
        : api.post(`/chat/messages/${e.id}/reactions`, { emoji }),
    );
  };
  return (
    <li className={`entry ${e.is_pinned ? 'pinned' : ''}`} data-entry={e.id}>
      <div className="entry-head">
        <strong>{author}</strong>
        <time className="small muted" dateTime={e.created_at}>
          {shortTime(e.created_at)}
        </time>
        {e.is_edited && !e.is_deleted && <span className="small muted">(edited)</span>}
        {e.is_pinned && <span className="tag">pinned</span>}
      </div>
      {p.parent && (
        <p className="reply-quote small muted">
          ↪ {memberName(p.parent.user_id, members)}:{' '}
          {plainText(p.parent.content, members).slice(0, 80) || 'deleted message'}
        </p>
      )}
      {e.is_deleted ? (
        <p className="muted small">This message was deleted.</p>
      ) : editing ? (
        <form
          className="inline-form"
          onSubmit={(ev) => {
            ev.preventDefault();
            act.mutate(() => api.put(`/chat/messages/${e.id}`, { content: draft }));
            setEditing(false);
          }}
        >
          <label htmlFor={`edit-${e.id}`} className="sr-only">
            Edit message
          </label>
          <input id={`edit-${e.id}`} value={draft} onChange={(ev) => setDraft(ev.target.value)} />
          <button type="submit" className="primary">
            Save
          </button>
          <button type="button" className="ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <p className="entry-text">
          {mentionSegments(e.content ?? '', members).map((s) =>
            'mention' in s ? (
              <span key={s.at} className={`mention ${s.userId === session.userId ? 'me' : ''}`}>
                {s.mention}
              </span>
            ) : (
              <span key={s.at}>{s.text}</span>
            ),
          )}
        </p>
      )}
      {Object.keys(e.reactions).length > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {Object.entries(e.reactions).map(([emoji, users]) => (
            <li key={emoji}>
              <button
                type="button"
                className={`reaction ${users.includes(session.userId) ? 'mine' : ''}`}
                aria-pressed={users.includes(session.userId)}
                aria-label={`${emoji} ${users.length}: ${users.map((u) => memberName(u, members)).join(', ')}`}
                onClick={() => react(emoji)}
              >
                {emoji} {users.length}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!e.is_deleted && (
        <div className="entry-actions">
          {QUICK_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              className="ghost"
              aria-label={`React ${emoji}`}
              onClick={() => react(emoji)}
            >
              {emoji}
            </button>
          ))}
          <button type="button" className="ghost" onClick={p.onReply}>
            Reply
          </button>
          <button
            type="button"
            className="ghost"
            onClick={() => act.mutate(() => api.post(`/chat/messages/${e.id}/pin`, { pinned: !e.is_pinned }))}
          >
            {e.is_pinned ? 'Unpin' : 'Pin'}
          </button>
          {mine && (
            <button type="button" className="ghost" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          {mine && (
            <button
              type="button"
              className="ghost"
              onClick={() => {
                if (confirm('Delete this message?')) act.mutate(() => api.del(`/chat/messages/${e.id}`));
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
      <ErrorNote error={act.error} />
    </li>
  );
}
