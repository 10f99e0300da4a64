// `npm run simulate -- <provider> [--tenant demo] [--from …] [--name …] [--text …] [--url http://localhost:8003]`
// Posts a correctly signed, provider-shaped webhook to a running service, so a new user can watch a
// conversation appear without any provider account. It makes (or re-keys) a "Simulator" channel account
// through the REST API with secrets it generates, then signs with them. The account is a sandbox account: with
// the service's sandbox transport on (the embedded defaults), a reply to the conversation comes back sent,
// delivered and read, without reaching any provider.
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig, signToken } from '@comms/core/platform';
import { buildSimulatedWebhook, SIMULATED_PROVIDERS, type SimulatedProvider } from './webhooks.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string', default: 'demo' },
    from: { type: 'string' },
    name: { type: 'string', default: 'Simulated Customer' },
    text: { type: 'string', default: 'Hello! I would like to book a trip to Lisbon.' },
    url: { type: 'string' },
  },
});
const provider = positionals[0] as SimulatedProvider | undefined;
if (!provider || !SIMULATED_PROVIDERS.includes(provider)) {
  console.error(
    `usage: npm run simulate -- <${SIMULATED_PROVIDERS.join('|')}> [--tenant demo] [--from …] [--name …] [--text …] [--url …]`,
  );
  process.exit(2);
}
const config = loadConfig(process.env);
if (!config.JWT_SECRET) {
  console.error('simulate signs an admin token with JWT_SECRET; it is not set');
  process.exit(1);
}
const base = (values.url ?? config.PUBLIC_BASE_URL).replace(/\/$/, '');
const api = `${base}/api/v1/tenants/${values.tenant}/communications`;
const token = await signToken(
  config.JWT_SECRET,
  { sub: randomUUID(), tenant_slug: values.tenant, role: 'tenant_admin' },
  '5m',
);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

const webhook = buildSimulatedWebhook(provider, {
  baseUrl: base,
  tenant: values.tenant,
  from: values.from,
  name: values.name,
  text: values.text,
  secret: randomBytes(16).toString('hex'),
});

// Find or create the Simulator account, then set the secrets this run signs with.
const list = await fetch(`${api}/channel-accounts?provider=${webhook.account.provider}&limit=200`, { headers });
if (!list.ok) {
  console.error(`cannot reach ${api} (${list.status}): is the service running (npm start)?`);
  process.exit(1);
}
const accounts = ((await list.json()) as { data: { id: number; identifier: string }[] }).data;
const existing = accounts.find((a) => a.identifier === webhook.account.identifier);
const saved = existing
  ? await fetch(`${api}/channel-accounts/${existing.id}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ credentials: webhook.account.credentials, sandbox: true }),
    })
  : await fetch(`${api}/channel-accounts`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...webhook.account, name: 'Simulator' }),
    });
if (!saved.ok) {
  console.error(`could not prepare the simulator account: ${saved.status} ${await saved.text()}`);
  process.exit(1);
}

const res = await fetch(webhook.url, { method: 'POST', headers: webhook.headers, body: webhook.body });
console.log(`${provider} webhook → ${res.status} ${res.statusText}`);
if (!res.ok) {
  console.error(await res.text());
  process.exit(1);
}
const convs = await fetch(`${api}/conversations?q=${encodeURIComponent(webhook.contact)}&limit=1`, { headers });
const conv = ((await convs.json()) as { data: { id: number; status: string; message_count: number }[] }).data[0];
if (conv) {
  console.log(
    `conversation ${conv.id}: ${conv.status}, ${conv.message_count} message(s) → GET ${api}/conversations/${conv.id}`,
  );
  console.log(
    `reply: POST ${api}/messages {"conversation_id": ${conv.id}, "type": "text", "content": "…"}, then GET ${api}/messages/conversation/${conv.id}`,
  );
}
