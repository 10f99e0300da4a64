import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { api, type Page } from '../api';
import { AttachmentItem, ErrorNote } from '../components';
import { channelLabel, contactLabel, shortTime, statusTick } from '../format';
import { useSession } from '../live-context';
import { hrefOf, onLinkClick } from '../router';
import type { Conversation, Message } from '../types';
import { Composer } from './Composer';

export function ConversationPane({ id }: { id: number }) {
  const session = useSession();
  const qc = useQueryClient();
  const conv = useQuery({
    queryKey: ['conversation', id],
    queryFn: () => api.get<Conversation>(`/conversations/${id}`),
  });
  const messages = useQuery({
    queryKey: ['messages', id],
    queryFn: async () =>
      (await api.get<Page<Message>>(`/messages/conversation/${id}`, { order: 'desc', limit: 100 })).data.reverse(),
  });
  const c = conv.data;

  // Opening a conversation reads it.
  const unread = c?.unread_count ?? 0;
  useEffect(() => {
    if (unread > 0)
      void api.post(`/conversations/${id}/read`).then(() => qc.invalidateQueries({ queryKey: ['conversations'] }));
  }, [id, unread, qc]);

  const act = useMutation({
    mutationFn: async (f: () => Promise<unknown>) => f(),
    onSuccess: (data) => {
      if (data && typeof data === 'object' && 'id' in data) qc.setQueryData(['conversation', id], data);
      void qc.invalidateQueries({ queryKey: ['conversations'] });
    },
  });

  const end = useRef<HTMLLIElement>(null);
  const count = messages.data?.length ?? 0;
  useEffect(() => {
    if (count) end.current?.scrollIntoView({ block: 'end' });
  }, [count]);

  const back = hrefOf({ view: 'inbox', id: null });
  if (conv.error)
    return (
      <section className="detail">
        <ErrorNote error={conv.error} />
      </section>
    );
  if (!c) return <section className="detail" aria-busy="true" aria-label="Conversation" />;
  const name = contactLabel(c);
  const mine = c.assigned_to === session.userId;

  return (
    <section className="detail" aria-labelledby="conv-title">
      <header className="detail-head">
        <a className="back" href={back} onClick={(e) => onLinkClick(e, back)} aria-label="Back to the list">
          ←
        </a>
        <div className="detail-title">
          <h2 id="conv-title">{name}</h2>
          <p className="muted small">
            {channelLabel(c.channel)} · {c.contact_identifier} · <span data-testid="conv-status">{c.status}</span>
            {c.is_lead && <> · lead{c.lead_id ? ` ${c.lead_id}` : ''}</>}
            {c.is_spam && <> · spam{c.spam_reason ? ` (${c.spam_reason})` : ''}</>}
          </p>
        </div>
        <div className="actions">
          <button
            type="button"
            onClick={() =>
              act.mutate(() => api.post(`/conversations/${id}/assign`, { user_id: mine ? null : session.userId }))
            }
          >
            {mine ? 'Unassign' : 'Assign to me'}
          </button>
          <label className="sr-only" htmlFor="prio">
            Priority
          </label>
          <select
            id="prio"
            value={c.priority}
            onChange={(e) => {
              // Read now: the controlled select is set back to the current priority before the call runs.
              const priority = e.target.value;
              act.mutate(() => api.put(`/conversations/${id}`, { priority }));
            }}
          >
            <option value="high">High priority</option>
            <option value="normal">Normal priority</option>
            <option value="low">Low priority</option>
          </select>
          {!c.is_lead && (
            <QualifyButton onQualify={(body) => act.mutate(() => api.post(`/conversations/${id}/qualify`, body))} />
          )}
          <button
            type="button"
            onClick={() => act.mutate(() => api.put(`/conversations/${id}`, { is_spam: !c.is_spam }))}
          >
            {c.is_spam ? 'Not spam' : 'Mark spam'}
          </button>
          {c.status !== 'archived' && (
            <button type="button" onClick={() => act.mutate(() => api.del(`/conversations/${id}`))}>
              Archive
            </button>
          )}
        </div>
      </header>
      <ErrorNote error={act.error} />
      <ol className="messages" aria-label={`Messages with ${name}`} aria-live="polite">
        {messages.data?.map((m) => (
          <MessageItem key={m.id} m={m} />
        ))}
        <li ref={end} aria-hidden="true" className="end" />
      </ol>
      <ErrorNote error={messages.error} />
      <Composer conversation={c} />
    </section>
  );
}

function MessageItem({ m }: { m: Message }) {
  const qc = useQueryClient();
  const retry = useMutation({
    mutationFn: () => api.post<Message>(`/messages/${m.id}/retry`),
    // `pending` is shown before the request leaves, so the live `message_sent` or `message_failed` that may arrive
    // before the answer is applied over it, and the answer itself changes nothing.
    onMutate: () =>
      qc.setQueryData<Message[]>(['messages', m.conversation_id], (l) =>
        l?.map((x) => (x.id === m.id ? { ...x, status: 'pending', error: null } : x)),
      ),
    onError: () => qc.invalidateQueries({ queryKey: ['messages', m.conversation_id] }),
  });
  const tick = m.direction === 'out' ? statusTick(m.status) : null;
  return (
    <li className={`msg msg-${m.direction} ${m.status === 'failed' ? 'msg-failed' : ''}`} data-message={m.id}>
      <span className="sr-only">{m.direction === 'in' ? 'Customer:' : 'You:'}</span>
      {m.content && <p className="msg-text">{m.content}</p>}
      {m.attachments?.length > 0 && (
        <ul className="attachments" aria-label="Attachments">
          {m.attachments.map((a, i) => (
            <li key={String(a.id ?? i)}>
              <AttachmentItem attachment={a} />
            </li>
          ))}
        </ul>
      )}
      {!m.attachments?.length && m.media_url && (
        <a href={m.media_url} target="_blank" rel="noreferrer noopener">
          {m.type} attachment
        </a>
      )}
      <span className="msg-meta">
        <time dateTime={m.created_at}>{shortTime(m.created_at)}</time>
        {tick && (
          <span className={`tick tick-${m.status}`} data-status={m.status} title={tick.label}>
            <span aria-hidden="true">{tick.symbol}</span>
            <span className="sr-only">{tick.label}</span>
          </span>
        )}
      </span>
      {m.status === 'failed' && (
        <p className="msg-error" role="note">
          Not delivered: {m.error ? `${m.error.message} (${m.error.code})` : 'the provider refused it'}{' '}
          <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
            Retry
          </button>
          <ErrorNote error={retry.error} />
        </p>
      )}
    </li>
  );
}

function QualifyButton({ onQualify }: { onQualify: (b: { lead_id?: string; notes?: string }) => void }) {
  const [open, setOpen] = useState(false);
  const [lead, setLead] = useState('');
  const [notes, setNotes] = useState('');
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Qualify as lead
      </button>
    );
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        onQualify({ lead_id: lead.trim() || undefined, notes: notes.trim() || undefined });
        setOpen(false);
      }}
    >
      <label htmlFor="lead-id">Lead id (CRM, optional)</label>
      <input id="lead-id" value={lead} onChange={(e) => setLead(e.target.value)} />
      <label htmlFor="lead-notes">Notes</label>
      <input id="lead-notes" value={notes} onChange={(e) => setNotes(e.target.value)} />
      <button type="submit" className="primary">
        Qualify
      </button>
      <button type="button" className="ghost" onClick={() => setOpen(false)}>
        Cancel
      </button>
    </form>
  );
}
