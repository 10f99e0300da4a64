import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Page } from '../api';
import { ErrorNote, TableHead } from '../components';
import { channelLabel } from '../format';
import type { ChannelAccount } from '../types';

/** The credentials each provider takes (DESIGN appendix A); all write-only. */
export const CREDENTIALS: Record<string, string[]> = {
  whatsapp: ['access_token', 'app_secret', 'verify_token'],
  messenger: ['page_access_token', 'app_secret', 'verify_token'],
  instagram: ['page_access_token', 'app_secret', 'verify_token'],
  sms: ['account_sid', 'auth_token'],
  twilio_whatsapp: ['account_sid', 'auth_token'],
  email: ['api_key', 'from_email', 'inbound_token', 'event_public_key'],
};

/** An email account through Amazon SES: its own keys (or none: the AWS default credentials of the service). */
const SES_CREDENTIALS = ['access_key_id', 'secret_access_key'];

const credentialsOf = (provider: string, transport: string) =>
  provider === 'email' && transport === 'ses' ? SES_CREDENTIALS : (CREDENTIALS[provider] ?? []);

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

const providerLabel = (a: ChannelAccount) =>
  a.provider === 'email' && a.transport === 'ses' ? 'Email (Amazon SES)' : channelLabel(a.provider);

const IDENTIFIER_HINT: Record<string, string> = {
  whatsapp: 'WhatsApp phone_number_id',
  messenger: 'Facebook page id',
  instagram: 'Instagram account id',
  sms: 'Twilio number, E.164',
  twilio_whatsapp: 'Twilio WhatsApp number, E.164',
  email: 'Inbound address',
};

export function ChannelAccounts() {
  const accounts = useQuery({
    queryKey: ['channel-accounts'],
    queryFn: async () => (await api.get<Page<ChannelAccount>>('/channel-accounts', { limit: 100 })).data,
  });
  const [editing, setEditing] = useState<ChannelAccount | 'new' | null>(null);
  return (
    <section className="card" aria-labelledby="accounts-title">
      <div className="card-head">
        <h2 id="accounts-title">Channel accounts</h2>
        <button type="button" onClick={() => setEditing('new')}>
          Add account
        </button>
      </div>
      <ErrorNote error={accounts.error} />
      {editing && <AccountForm account={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      <table className="table">
        <caption className="sr-only">The tenant's provider connections</caption>
        <TableHead columns={['Name', 'Provider', 'Identifier', 'Secrets set']} />
        <tbody>
          {accounts.data?.map((a) => (
            <tr key={a.id}>
              <td>
                {a.name}
                {a.status !== 'active' && <span className="tag"> {a.status}</span>}
                {a.sandbox && <span className="tag"> sandbox</span>}
              </td>
              <td>{providerLabel(a)}</td>
              <td className="mono">{a.identifier}</td>
              <td className="small">{a.credentials.join(', ') || 'none'}</td>
              <td>
                <button type="button" className="ghost" onClick={() => setEditing(a)} aria-label={`Edit ${a.name}`}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {accounts.isSuccess && !accounts.data.length && <p className="muted">No accounts yet.</p>}
    </section>
  );
}

function AccountForm({ account, onDone }: { account: ChannelAccount | null; onDone: () => void }) {
  const qc = useQueryClient();
  const [provider, setProvider] = useState(account?.provider ?? 'whatsapp');
  const [name, setName] = useState(account?.name ?? '');
  const [identifier, setIdentifier] = useState(account?.identifier ?? '');
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [transport, setTransport] = useState<string>(account?.transport ?? 'sendgrid');
  const [ses, setSes] = useState({
    region: account?.ses?.region ?? '',
    from_email: account?.ses?.from_email ?? '',
    configuration_set: account?.ses?.configuration_set ?? '',
    sns_topic_arns: (account?.ses?.sns_topic_arns ?? []).join('\n'),
    inbound_addresses: (account?.ses?.inbound_addresses ?? []).join('\n'),
  });
  const isSes = provider === 'email' && transport === 'ses';
  const done = () => {
    void qc.invalidateQueries({ queryKey: ['channel-accounts'] });
    onDone();
  };
  const save = useMutation({
    mutationFn: () => {
      // Secrets left empty are not sent: on an edit they keep their stored value.
      const credentials = Object.fromEntries(
        Object.entries(secrets).filter(([k, v]) => v.trim() && credentialsOf(provider, transport).includes(k)),
      );
      const email =
        provider === 'email'
          ? {
              transport,
              ...(isSes
                ? {
                    ses: {
                      region: ses.region.trim(),
                      from_email: ses.from_email.trim() || null,
                      configuration_set: ses.configuration_set.trim() || null,
                      sns_topic_arns: lines(ses.sns_topic_arns),
                      inbound_addresses: lines(ses.inbound_addresses),
                    },
                  }
                : {}),
            }
          : {};
      return account
        ? api.put(`/channel-accounts/${account.id}`, { name, identifier, credentials, ...email })
        : api.post('/channel-accounts', { provider, name, identifier, credentials, ...email });
    },
    onSuccess: done,
  });
  const remove = useMutation({ mutationFn: () => api.del(`/channel-accounts/${account!.id}`), onSuccess: done });
  return (
    <form
      className="form"
      aria-label={account ? `Edit ${account.name}` : 'New channel account'}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <div className="field">
        <label htmlFor="acc-provider">Provider</label>
        <select id="acc-provider" value={provider} disabled={!!account} onChange={(e) => setProvider(e.target.value)}>
          {Object.keys(CREDENTIALS).map((p) => (
            <option key={p} value={p}>
              {channelLabel(p)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="acc-name">Name</label>
        <input id="acc-name" required value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="acc-identifier">Identifier ({IDENTIFIER_HINT[provider]})</label>
        <input id="acc-identifier" required value={identifier} onChange={(e) => setIdentifier(e.target.value)} />
      </div>
      {provider === 'email' && (
        <div className="field">
          <label htmlFor="acc-transport">Transport</label>
          <select id="acc-transport" value={transport} onChange={(e) => setTransport(e.target.value)}>
            <option value="sendgrid">SendGrid</option>
            <option value="ses">Amazon SES</option>
          </select>
        </div>
      )}
      {isSes && (
        <fieldset>
          <legend>Amazon SES</legend>
          <div className="field">
            <label htmlFor="ses-region">Region</label>
            <input
              id="ses-region"
              required
              placeholder="eu-west-1"
              value={ses.region}
              onChange={(e) => setSes((v) => ({ ...v, region: e.target.value }))}
            />
          </div>
          <div className="field">
            <label htmlFor="ses-topics">SNS topic ARNs (one a line)</label>
            <textarea
              id="ses-topics"
              required
              rows={2}
              placeholder="arn:aws:sns:eu-west-1:123456789012:acme-ses"
              value={ses.sns_topic_arns}
              onChange={(e) => setSes((v) => ({ ...v, sns_topic_arns: e.target.value }))}
            />
          </div>
          <div className="field">
            <label htmlFor="ses-from">From address (a verified identity; the identifier when empty)</label>
            <input
              id="ses-from"
              type="email"
              value={ses.from_email}
              onChange={(e) => setSes((v) => ({ ...v, from_email: e.target.value }))}
            />
          </div>
          <div className="field">
            <label htmlFor="ses-config">Configuration set (its SNS event destination posts the statuses)</label>
            <input
              id="ses-config"
              value={ses.configuration_set}
              onChange={(e) => setSes((v) => ({ ...v, configuration_set: e.target.value }))}
            />
          </div>
          <div className="field">
            <label htmlFor="ses-inbound">Other inbound addresses (one a line)</label>
            <textarea
              id="ses-inbound"
              rows={2}
              value={ses.inbound_addresses}
              onChange={(e) => setSes((v) => ({ ...v, inbound_addresses: e.target.value }))}
            />
          </div>
        </fieldset>
      )}
      <fieldset>
        <legend>
          Secrets (write-only{account ? '; leave empty to keep the stored value' : ''}
          {isSes ? '; none: the service’s AWS credentials' : ''})
        </legend>
        {credentialsOf(provider, transport).map((k) => (
          <div className="field" key={k}>
            <label htmlFor={`secret-${k}`}>
              {k}
              {account?.credentials.includes(k) ? ' (set)' : ''}
            </label>
            <input
              id={`secret-${k}`}
              type="password"
              autoComplete="new-password"
              value={secrets[k] ?? ''}
              onChange={(e) => setSecrets((s) => ({ ...s, [k]: e.target.value }))}
            />
          </div>
        ))}
      </fieldset>
      <div className="form-actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {account ? 'Save' : 'Create'}
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          Cancel
        </button>
        {account && (
          <button
            type="button"
            className="danger"
            onClick={() => {
              if (confirm(`Delete the account ${account.name}?`)) remove.mutate();
            }}
          >
            Delete
          </button>
        )}
      </div>
      <ErrorNote error={save.error ?? remove.error} />
    </form>
  );
}
