/**
 * Outgoing webhook endpoints (issue 15's paths). A server without that feature answers 404 on the list, and the
 * section says so instead of failing.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, type Page } from '../api';
import { ErrorNote } from '../components';
import type { WebhookEndpoint } from '../types';

export const EVENT_TYPES = [
  'message_received',
  'message_sent',
  'message_delivered',
  'message_read',
  'message_failed',
  'conversation_created',
  'conversation_updated',
  'conversation_archived',
  'conversation_assigned',
  'conversation_qualified',
];

export function WebhookEndpoints() {
  const qc = useQueryClient();
  const endpoints = useQuery({
    queryKey: ['webhook-endpoints'],
    queryFn: async () => (await api.get<Page<WebhookEndpoint>>('/webhook-endpoints', { limit: 100 })).data,
    retry: false,
  });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const act = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: (res) => {
      const s = (res as { secret?: string } | null)?.secret;
      if (s) setSecret(s);
      void qc.invalidateQueries({ queryKey: ['webhook-endpoints'] });
    },
  });
  const missing = endpoints.error instanceof ApiError && endpoints.error.status === 404;

  return (
    <section className="card" aria-labelledby="hooks-title">
      <div className="card-head">
        <h2 id="hooks-title">Webhook endpoints</h2>
        {!missing && (
          <button type="button" onClick={() => setCreating(true)}>
            Add endpoint
          </button>
        )}
      </div>
      {missing ? (
        <p className="muted" data-testid="webhooks-unavailable">
          Outgoing webhooks are not available on this server.
        </p>
      ) : (
        <ErrorNote error={endpoints.error} />
      )}
      {secret && (
        <div className="notice" role="alert">
          <p>
            The signing secret, shown this once: copy it into the receiver now.
            <br />
            <code className="mono">{secret}</code>
          </p>
          <button type="button" className="ghost" onClick={() => setSecret(null)}>
            I have copied it
          </button>
        </div>
      )}
      {creating && (
        <EndpointForm
          onCancel={() => setCreating(false)}
          onCreate={(body) => {
            setCreating(false);
            act.mutate(() => api.post('/webhook-endpoints', body));
          }}
        />
      )}
      <ErrorNote error={act.error} />
      {endpoints.data && (
        <ul className="plain">
          {endpoints.data.map((ep) => (
            <li key={ep.id} className="endpoint">
              <div>
                <span className="mono">{ep.url}</span> {!ep.enabled && <span className="tag">disabled</span>}
                <p className="small muted">
                  {ep.description ? `${ep.description} · ` : ''}
                  {ep.event_types?.length ? ep.event_types.join(', ') : 'all events'}
                </p>
              </div>
              <div className="actions">
                <button
                  type="button"
                  className="ghost"
                  onClick={() => act.mutate(() => api.put(`/webhook-endpoints/${ep.id}`, { enabled: !ep.enabled }))}
                >
                  {ep.enabled ? 'Disable' : 'Enable'}
                </button>
                <button
                  type="button"
                  className="ghost"
                  onClick={() => act.mutate(() => api.post(`/webhook-endpoints/${ep.id}/test`))}
                >
                  Send test
                </button>
                <button
                  type="button"
                  className="ghost"
                  onClick={() => act.mutate(() => api.post(`/webhook-endpoints/${ep.id}/rotate-secret`))}
                >
                  Rotate secret
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (confirm(`Delete the endpoint ${ep.url}?`))
                      act.mutate(() => api.del(`/webhook-endpoints/${ep.id}`));
                  }}
                >
                  Delete
                </button>
              </div>
            </li>
          ))}
          {endpoints.data.length === 0 && <li className="muted">No endpoints yet.</li>}
        </ul>
      )}
    </section>
  );
}

function EndpointForm(p: { onCreate: (body: Record<string, unknown>) => void; onCancel: () => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  return (
    <form
      className="form"
      aria-label="New webhook endpoint"
      onSubmit={(e) => {
        e.preventDefault();
        // No types picked: every event (the field left out).
        p.onCreate({ url, description: description || undefined, ...(types.length ? { event_types: types } : {}) });
      }}
    >
      <div className="field">
        <label htmlFor="ep-url">URL</label>
        <input
          id="ep-url"
          type="url"
          required
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          placeholder="https://crm.example.com/hooks"
        />
      </div>
      <div className="field">
        <label htmlFor="ep-desc">Description</label>
        <input id="ep-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <fieldset>
        <legend>Events (none picked: all)</legend>
        <div className="checks">
          {EVENT_TYPES.map((t) => (
            <label key={t} className="check">
              <input
                type="checkbox"
                checked={types.includes(t)}
                onChange={(e) => setTypes((s) => (e.target.checked ? [...s, t] : s.filter((x) => x !== t)))}
              />{' '}
              {t}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="primary">
          Create endpoint
        </button>
        <button type="button" className="ghost" onClick={p.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
