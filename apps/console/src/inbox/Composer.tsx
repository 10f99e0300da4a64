import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { api, type Page } from '../api';
import { addMessage } from '../cache';
import { ErrorNote, SuggestionList, suggestionAria, useSuggestions } from '../components';
import { conversationVariables, duration, renderVariables, replyWindow, slashQuery } from '../format';
import type { Conversation, Message, QuickReply } from '../types';

/** Quick replies matching what follows the `/`: by shortcut, title or text. */
export function matchQuickReplies(all: QuickReply[], q: string): QuickReply[] {
  return all
    .filter((r) => r.is_active)
    .filter(
      (r) =>
        !q ||
        r.shortcuts?.some((s) => s.toLowerCase().replace(/^\//, '').startsWith(q)) ||
        r.title.toLowerCase().includes(q) ||
        r.content.toLowerCase().includes(q),
    )
    .slice(0, 8);
}

export function Composer({ conversation: c }: { conversation: Conversation }) {
  const qc = useQueryClient();
  const [text, setText] = useState('');
  const [picked, setPicked] = useState<{ id: number; rendered: string } | null>(null);
  const [now, setNow] = useState(Date.now());
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(t);
  }, []);
  const win = replyWindow(c, now);
  const slash = slashQuery(text);
  const replies = useQuery({
    queryKey: ['quick-replies'],
    queryFn: async () => (await api.get<Page<QuickReply>>('/quick-replies', { is_active: true, limit: 100 })).data,
    enabled: slash !== null,
    staleTime: 60_000,
  });
  const options = slash !== null ? matchQuickReplies(replies.data ?? [], slash) : [];
  const vars = conversationVariables(c);

  const send = useMutation({
    mutationFn: async (body: { content: string; quick_reply_id?: number }) => {
      // Unchanged quick reply: the API renders and counts it; edited: sent as typed, still linked to it.
      if (body.quick_reply_id && picked && picked.rendered === body.content) {
        const res = await api.post<{ message: Message | null }>(`/quick-replies/${body.quick_reply_id}/use`, {
          conversation_id: c.id,
        });
        return res.message;
      }
      return api.post<Message>('/messages', { conversation_id: c.id, type: 'text', ...body });
    },
    onSuccess: (m) => {
      if (m) qc.setQueryData<Message[]>(['messages', c.id], (l) => addMessage(l, m));
      setText('');
      setPicked(null);
      void qc.invalidateQueries({ queryKey: ['conversations'] });
      box.current?.focus();
    },
  });

  const choose = (r: QuickReply) => {
    const { text: rendered } = renderVariables(r.content, vars);
    setText(rendered);
    setPicked({ id: r.id, rendered });
    box.current?.focus();
  };
  const suggestions = useSuggestions(options, choose, () => setText(''));

  const submit = () => {
    const content = text.trim();
    if (!content || send.isPending) return;
    send.mutate({ content, quick_reply_id: picked?.id });
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.onKey(e)) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };

  if (win.applies && !win.open) return <TemplatePicker conversation={c} canTemplate={win.templates} />;

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {win.applies && (
        <p className="window small" data-testid="reply-window">
          24-hour window open: closes in {duration(win.remainingMs)}
        </p>
      )}
      <SuggestionList
        id="qr-list"
        label="Quick replies"
        options={options}
        active={suggestions.active}
        onPick={suggestions.choose}
      >
        {(r) => (
          <>
            <strong>{r.title}</strong>
            <span className="muted small">{renderVariables(r.content, vars).text}</span>
          </>
        )}
      </SuggestionList>
      <label htmlFor="reply" className="sr-only">
        Reply
      </label>
      <div className="composer-row">
        <textarea
          id="reply"
          ref={box}
          rows={2}
          placeholder="Reply… (/ for quick replies)"
          aria-describedby="reply-help"
          value={text}
          {...suggestionAria('qr-list', options, suggestions.active)}
          aria-autocomplete={slash !== null ? 'list' : undefined}
          onChange={(e) => {
            setText(e.target.value);
            suggestions.reset();
          }}
          onKeyDown={onKey}
        />
        <button type="submit" className="primary" disabled={!text.trim() || send.isPending}>
          Send
        </button>
      </div>
      <p id="reply-help" className="sr-only">
        Enter sends, Shift+Enter starts a new line. Type / to pick a quick reply with the arrow keys and Enter.
      </p>
      <ErrorNote error={send.error} />
    </form>
  );
}

/** Outside the 24-hour window only a template goes out (WhatsApp); other channels must wait for the customer. */
function TemplatePicker({ conversation: c, canTemplate }: { conversation: Conversation; canTemplate: boolean }) {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [language, setLanguage] = useState('en_US');
  const send = useMutation({
    mutationFn: () =>
      api.post<Message>('/messages', {
        conversation_id: c.id,
        type: 'text',
        template: { name: name.trim(), language },
      }),
    onSuccess: (m) => {
      qc.setQueryData<Message[]>(['messages', c.id], (l) => addMessage(l, m));
      setName('');
    },
  });
  return (
    <form
      className="composer closed"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) send.mutate();
      }}
    >
      <p className="window small" data-testid="reply-window">
        The 24-hour window is closed: the customer last wrote more than a day ago.{' '}
        {canTemplate ? 'Only an approved template can be sent.' : 'A reply can only go out after they write again.'}
      </p>
      {canTemplate && (
        <div className="composer-row">
          <div className="field grow">
            <label htmlFor="tpl-name">Template name</label>
            <input id="tpl-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="booking_update" />
          </div>
          <div className="field">
            <label htmlFor="tpl-lang">Language</label>
            <input id="tpl-lang" value={language} onChange={(e) => setLanguage(e.target.value)} size={6} />
          </div>
          <button type="submit" className="primary" disabled={!name.trim() || send.isPending}>
            Send template
          </button>
        </div>
      )}
      <ErrorNote error={send.error} />
    </form>
  );
}
