import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from '../api';
import { ErrorNote } from '../components';
import type { SpamRules } from '../types';

const lines = (s: string) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);

export function SpamRulesForm() {
  const qc = useQueryClient();
  const rules = useQuery({ queryKey: ['spam-rules'], queryFn: () => api.get<SpamRules>('/settings/spam') });
  const [draft, setDraft] = useState({ blocked: '', keywords: '', rate: '0', linkOnly: false });
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (rules.data)
      setDraft({
        blocked: rules.data.blocked_identifiers.join('\n'),
        keywords: rules.data.keywords.join('\n'),
        rate: String(rules.data.max_messages_per_minute),
        linkOnly: rules.data.block_link_only_first_message,
      });
  }, [rules.data]);
  const save = useMutation({
    mutationFn: () =>
      api.put<SpamRules>('/settings/spam', {
        blocked_identifiers: lines(draft.blocked),
        keywords: lines(draft.keywords),
        max_messages_per_minute: Number(draft.rate) || 0,
        block_link_only_first_message: draft.linkOnly,
      }),
    onSuccess: (r) => {
      qc.setQueryData(['spam-rules'], r);
      setSaved(true);
    },
  });
  return (
    <section className="card" aria-labelledby="spam-title">
      <h2 id="spam-title">Spam rules</h2>
      <ErrorNote error={rules.error} />
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          setSaved(false);
          save.mutate();
        }}
      >
        <div className="field">
          <label htmlFor="spam-blocked">Blocked senders (one identifier a line)</label>
          <textarea
            id="spam-blocked"
            rows={3}
            value={draft.blocked}
            onChange={(e) => setDraft({ ...draft, blocked: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="spam-keywords">Keywords (one a line)</label>
          <textarea
            id="spam-keywords"
            rows={3}
            value={draft.keywords}
            onChange={(e) => setDraft({ ...draft, keywords: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="spam-rate">Most messages a minute from one sender (0: no limit)</label>
          <input
            id="spam-rate"
            type="number"
            min={0}
            value={draft.rate}
            onChange={(e) => setDraft({ ...draft, rate: e.target.value })}
          />
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.linkOnly}
            onChange={(e) => setDraft({ ...draft, linkOnly: e.target.checked })}
          />{' '}
          Treat a first message that is only a link as spam
        </label>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            Save spam rules
          </button>
          {saved && <span role="status">Saved.</span>}
        </div>
        <ErrorNote error={save.error} />
      </form>
    </section>
  );
}
