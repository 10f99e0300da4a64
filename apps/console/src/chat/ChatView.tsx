import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page } from '../api';
import { Badge, ErrorNote, onListKeys } from '../components';
import { channelTitle } from '../format';
import { useSession } from '../live-context';
import { hrefOf, navigate, onLinkClick } from '../router';
import type { Channel } from '../types';
import { ChannelPane } from './ChannelPane';

export function ChatView({ id }: { id: number | null }) {
  const channels = useQuery({
    queryKey: ['channels'],
    queryFn: async () => (await api.get<Page<Channel>>('/channels', { limit: 100 })).data,
  });
  const all = channels.data ?? [];
  const groups: [string, Channel[]][] = [
    ['Channels', all.filter((c) => c.type !== 'direct')],
    ['Direct messages', all.filter((c) => c.type === 'direct')],
  ];
  const current = all.find((c) => c.id === id) ?? null;
  return (
    <div className={`split ${id ? 'has-detail' : ''}`}>
      <section className="list-pane" aria-labelledby="chat-title">
        <div className="pane-head">
          <h1 id="chat-title">Team chat</h1>
          <NewChannel />
        </div>
        <ErrorNote error={channels.error} />
        {groups.map(([label, list]) => (
          <nav key={label} aria-label={label} onKeyDown={(e) => onListKeys(e, 'a.row')}>
            <h2 className="group">{label}</h2>
            <ul className="rows">
              {list.map((c) => {
                const href = hrefOf({ view: 'chat', id: c.id });
                return (
                  <li key={c.id}>
                    <a
                      className={`row compact ${c.unread_count ? 'unread' : ''}`}
                      href={href}
                      aria-current={c.id === id ? 'page' : undefined}
                      onClick={(e) => onLinkClick(e, href)}
                      data-channel={c.id}
                    >
                      <span className="row-name">{channelTitle(c)}</span>
                      <Badge count={c.mention_count} label="mentions" tone="mention" />
                      <Badge count={c.unread_count} label="unread" />
                    </a>
                  </li>
                );
              })}
              {list.length === 0 && channels.isSuccess && <li className="muted pad small">None yet.</li>}
            </ul>
          </nav>
        ))}
      </section>
      {id ? (
        <ChannelPane key={id} id={id} channel={current} />
      ) : (
        <section className="detail empty" aria-label="Channel">
          <p className="muted">Pick a channel or a direct message.</p>
        </section>
      )}
    </div>
  );
}

function NewChannel() {
  const session = useSession();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [kind, setKind] = useState<'public' | 'private' | 'direct'>('public');
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () =>
      api.post<Channel>(
        '/channels',
        kind === 'direct'
          ? { type: 'direct', member_ids: name.split(/[\s,]+/).filter((x) => x && x !== session.userId) }
          : { type: kind, name: name.trim() },
      ),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ['channels'] });
      setOpen(false);
      setName('');
      navigate({ view: 'chat', id: c.id });
    },
  });
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        New channel
      </button>
    );
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <label htmlFor="nc-type">Kind</label>
      <select id="nc-type" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
        <option value="public">Public channel</option>
        <option value="private">Private channel</option>
        <option value="direct">Direct message</option>
      </select>
      <label htmlFor="nc-name">{kind === 'direct' ? 'User ids (UUIDs, comma-separated)' : 'Name'}</label>
      <input id="nc-name" required value={name} onChange={(e) => setName(e.target.value)} />
      <button type="submit" className="primary" disabled={create.isPending}>
        Create
      </button>
      <button type="button" className="ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorNote error={create.error} />
    </form>
  );
}
