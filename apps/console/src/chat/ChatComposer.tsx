import { useMutation } from '@tanstack/react-query';
import { type KeyboardEvent, useLayoutEffect, useRef, useState } from 'react';
import { api } from '../api';
import { ErrorNote, SuggestionList, suggestionAria, useSuggestions } from '../components';
import { encodeMentions, memberName, mentionQuery, plainText } from '../format';
import { useLive, useSession } from '../live-context';
import type { Entry, Member } from '../types';

const TYPING_EVERY_MS = 2000;

export function ChatComposer(p: {
  channelId: number;
  members: Member[];
  replyTo: Entry | null;
  onSent: (e: Entry) => void;
  onCancelReply: () => void;
}) {
  const session = useSession();
  const live = useLive();
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const picked = useRef(new Map<string, string>());
  const lastTyping = useRef(0);
  const box = useRef<HTMLTextAreaElement>(null);
  // Where the caret goes once a picked mention is in the box: set as the new text is committed, before the next key
  // is handled (a frame later, keys typed meanwhile landed after the caret's old place and the text came out jumbled).
  const caretAfterPick = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (caretAfterPick.current === null) return;
    box.current?.setSelectionRange(caretAfterPick.current, caretAfterPick.current);
    caretAfterPick.current = null;
  });

  const mq = mentionQuery(text, caret);
  const options = mq
    ? p.members
        .filter((m) => m.user_id !== session.userId)
        .map((m) => ({ id: m.user_id, name: memberName(m.user_id, p.members) }))
        .filter((m) => m.name.toLowerCase().includes(mq.query))
        .slice(0, 6)
    : [];

  const send = useMutation({
    mutationFn: (content: string) =>
      api.post<Entry>(`/chat/channels/${p.channelId}/messages`, {
        content,
        reply_to_id: p.replyTo?.id,
        client_msg_id: crypto.randomUUID(),
      }),
    onSuccess: (entry) => {
      setText('');
      picked.current.clear();
      p.onSent(entry);
      box.current?.focus();
    },
  });

  const pick = (o: { id: string; name: string }) => {
    if (!mq) return;
    const before = text.slice(0, mq.start);
    const after = text.slice(caret);
    picked.current.set(o.name, o.id);
    const next = `${before}@${o.name} ${after}`;
    setText(next);
    const pos = before.length + o.name.length + 2;
    setCaret(pos);
    caretAfterPick.current = pos;
  };

  const typing = () => {
    const now = Date.now();
    if (now - lastTyping.current < TYPING_EVERY_MS) return;
    lastTyping.current = now;
    live?.send({ type: 'typing', channel_id: p.channelId });
  };

  const suggestions = useSuggestions(options, pick);

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (suggestions.onKey(e)) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      const content = encodeMentions(text.trim(), picked.current);
      if (content && !send.isPending) send.mutate(content);
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        const content = encodeMentions(text.trim(), picked.current);
        if (content) send.mutate(content);
      }}
    >
      {p.replyTo && (
        <p className="small muted replying">
          Replying to {memberName(p.replyTo.user_id, p.members)}: {plainText(p.replyTo.content, p.members).slice(0, 60)}{' '}
          <button type="button" className="ghost" onClick={p.onCancelReply}>
            Cancel reply
          </button>
        </p>
      )}
      <SuggestionList
        id="mention-list"
        label="Mention a member"
        options={options}
        active={suggestions.active}
        onPick={suggestions.choose}
      >
        {(o) => `@${o.name}`}
      </SuggestionList>
      <label htmlFor="chat-input" className="sr-only">
        Message
      </label>
      <div className="composer-row">
        <textarea
          id="chat-input"
          ref={box}
          rows={2}
          placeholder="Message… (@ to mention)"
          value={text}
          {...suggestionAria('mention-list', options, suggestions.active)}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart);
            suggestions.reset();
            if (e.target.value) typing();
          }}
          onSelect={(e) => setCaret(e.currentTarget.selectionStart)}
          onKeyDown={onKey}
        />
        <button type="submit" className="primary" disabled={!text.trim() || send.isPending}>
          Send
        </button>
      </div>
      <ErrorNote error={send.error} />
    </form>
  );
}
