/**
 * Outgoing webhook endpoints (the API's /webhook-endpoints): add one (URL, description, the events and inbox channels
 * it takes), see its signing secret once, enable or disable it, rotate its secret, send it a test event, read its
 * delivery log and retry a delivery, delete it.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page } from '../api';
import { ErrorNote, TableHead } from '../components';
import { channelLabel, shortTime } from '../format';
import type { WebhookDelivery, WebhookEndpoint } from '../types';
import { WEBHOOK_CHANNELS, WEBHOOK_EVENT_TYPES } from './webhook-events';

export function WebhookEndpoints() {
  const qc = useQueryClient();
  const endpoints = useQuery({
    queryKey: ['webhook-endpoints'],
    queryFn: async () => (await api.get<Page<WebhookEndpoint>>('/webhook-endpoints', { limit: 100 })).data,
  });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [log, setLog] = useState<WebhookEndpoint['id'] | null>(null);
  const act = useMutation({
    mutationFn: (f: () => Promise<unknown>) => f(),
    onSuccess: (res) => {
      const r = res as Partial<WebhookEndpoint> | null;
      if (r?.secret && r.url) setSecret({ url: r.url, secret: r.secret });
      void qc.invalidateQueries({ queryKey: ['webhook-endpoints'] });
      void qc.invalidateQueries({ queryKey: ['webhook-deliveries'] });
    },
  });
  const run = (f: () => Promise<unknown>, done?: string) => {
    setNotice(null);
    act.mutate(f, { onSuccess: () => done && setNotice(done) });
  };

  return (
    <section className="card" aria-labelledby="hooks-title">
      <div className="card-head">
        <h2 id="hooks-title">Webhook endpoints</h2>
        <button type="button" onClick={() => setCreating(true)}>
          Add endpoint
        </button>
      </div>
      <p className="small muted">
        Events are POSTed to each endpoint as they happen, signed as Standard Webhooks specifies (
        <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>), and retried with
        backoff until the endpoint answers 2xx.
      </p>
      <ErrorNote error={endpoints.error} />
      {secret && (
        <div className="notice" role="status">
          <p>
            The signing secret of <span className="mono">{secret.url}</span>, shown this once: copy it into the receiver
            now.
            <br />
            <code className="mono" data-testid="webhook-secret">
              {secret.secret}
            </code>
          </p>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              setSecret(null);
              act.reset(); // the answer that carried the secret is not kept either
            }}
          >
            I have copied it
          </button>
        </div>
      )}
      {notice && (
        <p role="status" className="small">
          {notice}
        </p>
      )}
      {creating && (
        <EndpointForm
          onCancel={() => setCreating(false)}
          onCreate={(body) => {
            // The form stays, with what was typed, when the API refuses the endpoint (its error shows below).
            setNotice(null);
            act.mutate(() => api.post('/webhook-endpoints', body), { onSuccess: () => setCreating(false) });
          }}
        />
      )}
      <ErrorNote error={act.error} />
      {endpoints.data && (
        <ul className="plain">
          {endpoints.data.map((ep) => (
            <li key={ep.id} className="endpoint">
              <div>
                <span className="mono" id={`endpoint-${ep.id}-url`}>
                  {ep.url}
                </span>{' '}
                {!ep.enabled && <span className="tag">disabled</span>}
                <p className="small muted">
                  {ep.description ? `${ep.description} · ` : ''}
                  {ep.event_types?.length ? ep.event_types.join(', ') : 'every event'}
                  {ep.channels?.length ? ` · ${ep.channels.map(channelLabel).join(', ')} only` : ''}
                  {!ep.enabled && ep.disabled_reason ? ` · disabled: ${ep.disabled_reason}` : ''}
                </p>
              </div>
              <div className="actions">
                <button
                  aria-describedby={`endpoint-${ep.id}-url`}
                  type="button"
                  className="ghost"
                  aria-expanded={log === ep.id}
                  aria-controls={`endpoint-${ep.id}-log`}
                  onClick={() => setLog((open) => (open === ep.id ? null : ep.id))}
                >
                  Deliveries
                </button>
                <button
                  aria-describedby={`endpoint-${ep.id}-url`}
                  type="button"
                  className="ghost"
                  onClick={() =>
                    run(
                      () => api.put(`/webhook-endpoints/${ep.id}`, { enabled: !ep.enabled }),
                      ep.enabled ? 'Disabled.' : 'Enabled.',
                    )
                  }
                >
                  {ep.enabled ? 'Disable' : 'Enable'}
                </button>
                <button
                  aria-describedby={`endpoint-${ep.id}-url`}
                  type="button"
                  className="ghost"
                  disabled={!ep.enabled}
                  onClick={() => run(() => api.post(`/webhook-endpoints/${ep.id}/test`), 'Test event queued.')}
                >
                  Send test
                </button>
                <button
                  aria-describedby={`endpoint-${ep.id}-url`}
                  type="button"
                  className="ghost"
                  onClick={() => {
                    if (confirm('Rotate the signing secret? The current one keeps signing beside it for 24 hours.'))
                      run(() => api.post(`/webhook-endpoints/${ep.id}/rotate-secret`));
                  }}
                >
                  Rotate secret
                </button>
                <button
                  aria-describedby={`endpoint-${ep.id}-url`}
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (!confirm(`Delete the endpoint ${ep.url} and its delivery log?`)) return;
                    setLog(null); // its log stops asking for the deliveries of an endpoint about to be gone
                    run(() => api.del(`/webhook-endpoints/${ep.id}`), 'Deleted.');
                  }}
                >
                  Delete
                </button>
              </div>
              {log === ep.id && (
                <DeliveryLog
                  endpoint={ep}
                  onRetry={(id) => run(() => api.post(`/webhook-deliveries/${id}/retry`), 'Sent again.')}
                />
              )}
            </li>
          ))}
          {endpoints.data.length === 0 && <li className="muted">No endpoints yet.</li>}
        </ul>
      )}
    </section>
  );
}

/** The endpoint's latest deliveries, newest first, refreshed while open. */
function DeliveryLog({ endpoint, onRetry }: { endpoint: WebhookEndpoint; onRetry: (id: number) => void }) {
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', endpoint.id],
    queryFn: async () =>
      (await api.get<Page<WebhookDelivery>>(`/webhook-endpoints/${endpoint.id}/deliveries`, { limit: 20 })).data,
    refetchInterval: 3_000,
  });
  return (
    <div className="delivery-log" id={`endpoint-${endpoint.id}-log`}>
      <ErrorNote error={deliveries.error} />
      <table className="table">
        <caption className="sr-only">Latest deliveries to {endpoint.url}</caption>
        <TableHead columns={['Event', 'Status', 'Attempts', 'Last answer', 'Created']} />
        <tbody>
          {deliveries.data?.map((d) => (
            <tr key={d.id} data-testid="webhook-delivery">
              <td className="mono">{d.event_type}</td>
              <td>{d.status}</td>
              <td>{d.attempts.length}</td>
              <td className="small">{d.last_status_code ?? d.last_error ?? '—'}</td>
              <td className="small">{shortTime(d.created_at)}</td>
              <td>
                {d.status !== 'pending' && (
                  <button
                    type="button"
                    className="ghost"
                    onClick={() => onRetry(d.id)}
                    aria-label={`Send the ${d.event_type} delivery again`}
                  >
                    Retry
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deliveries.isSuccess && !deliveries.data.length && <p className="muted small">No deliveries yet.</p>}
    </div>
  );
}

function Checks(p: {
  legend: string;
  options: readonly string[];
  label?: (v: string) => string;
  value: string[];
  onChange: (v: string[]) => void;
}) {
  return (
    <fieldset>
      <legend>{p.legend}</legend>
      <div className="checks">
        {p.options.map((t) => (
          <label key={t} className="check">
            <input
              type="checkbox"
              checked={p.value.includes(t)}
              onChange={(e) => p.onChange(e.target.checked ? [...p.value, t] : p.value.filter((x) => x !== t))}
            />{' '}
            {p.label ? p.label(t) : t}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function EndpointForm(p: { onCreate: (body: Record<string, unknown>) => void; onCancel: () => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([]);
  const [channels, setChannels] = useState<string[]>([]);
  return (
    <form
      className="form"
      aria-label="New webhook endpoint"
      onSubmit={(e) => {
        e.preventDefault();
        // Nothing picked: every event, every channel (the fields left out).
        p.onCreate({
          url,
          ...(description ? { description } : {}),
          ...(types.length ? { event_types: types } : {}),
          ...(channels.length ? { channels } : {}),
        });
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
      <Checks
        legend="Events (none picked: every event)"
        options={WEBHOOK_EVENT_TYPES}
        value={types}
        onChange={setTypes}
      />
      <Checks
        legend="Inbox channels (none picked: every channel and the team chat)"
        options={WEBHOOK_CHANNELS}
        label={channelLabel}
        value={channels}
        onChange={setChannels}
      />
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
