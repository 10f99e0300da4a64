// `npm run simulate -- <provider> [options]` (`--help` lists them)
// Posts a correctly signed, provider-shaped webhook to a running service, so a new user can watch a
// conversation appear without any provider account. It makes (or re-keys) a "Simulator" channel account
// through the REST API with secrets it generates, then signs with them. The account is a sandbox account: with
// the service's sandbox transport on (the embedded defaults), a reply to the conversation comes back sent,
// delivered and read, without reaching any provider.
import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig, signToken } from '@comms/core/platform';
import { commandLine, fail } from './cli.js';
import { simulateSes } from './simulate-ses.js';
import { buildSimulatedWebhook, SIMULATED_PROVIDERS, type SimulatedProvider } from './webhooks.js';

const USAGE = `usage: npm run simulate -- <provider> [options]

Posts a correctly signed, provider-shaped webhook to a running service (npm start), as a customer writing in.

providers:
  whatsapp          WhatsApp Cloud API message
  messenger         Facebook Messenger message
  instagram         Instagram message
  sms               SMS through Twilio
  twilio_whatsapp   WhatsApp through Twilio
  email             email through SendGrid Inbound Parse
  ses               email through Amazon SES (an SNS notification), or with --event a sending event

options:
  --tenant <slug>   the tenant (default demo)
  --from <id>       the customer: phone number, page-scoped id or email address (default: a new one)
  --name <name>     the customer's name (default Simulated Customer)
  --text <text>     what they write
  --url <url>       where the service listens (default PUBLIC_BASE_URL, http://localhost:8003)
  --event <event>   ses only: delivery, open, bounce, complaint, reject, delay or send, for a reply
  --message-id <id> ses only: the reply's SES id (default: the contact's latest sent reply)
  -h, --help        this text`;

const { values, positionals } = commandLine(
  USAGE,
  {
    tenant: { type: 'string', default: 'demo' },
    from: { type: 'string' },
    name: { type: 'string', default: 'Simulated Customer' },
    text: { type: 'string', default: 'Hello! I would like to book a trip to Lisbon.' },
    url: { type: 'string' },
    event: { type: 'string' },
    'message-id': { type: 'string' },
  },
  true,
);
const provider = positionals[0] as SimulatedProvider | 'ses' | undefined;
if (!provider) fail(`name a provider: ${SIMULATED_PROVIDERS.join(', ')}, ses (see --help)`, 2);
if (provider !== 'ses' && !SIMULATED_PROVIDERS.includes(provider))
  fail(`unknown provider '${provider}': one of ${SIMULATED_PROVIDERS.join(', ')} (see --help)`, 2);
if (positionals.length > 1) fail(`one provider at a time, not '${positionals.slice(1).join(' ')}' too (see --help)`, 2);
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (err) {
  fail((err as Error).message);
}
if (!config.JWT_SECRET) fail('simulate signs an admin token with JWT_SECRET, which is not set (JWKS_URL is)');
const base = (values.url ?? config.PUBLIC_BASE_URL).replace(/\/$/, '');
const api = `${base}/api/v1/tenants/${values.tenant}/communications`;
const token = await signToken(
  config.JWT_SECRET,
  { sub: randomUUID(), tenant_slug: values.tenant, role: 'tenant_admin' },
  '5m',
);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

if (provider === 'ses') {
  await simulateSes({
    base,
    api,
    headers,
    tenant: values.tenant,
    from: values.from ?? 'traveller@example.com',
    name: values.name,
    text: values.text,
    event: values.event,
    messageId: values['message-id'],
  });
  process.exit(0);
}

const webhook = buildSimulatedWebhook(provider, {
  baseUrl: base,
  tenant: values.tenant,
  from: values.from,
  name: values.name,
  text: values.text,
  secret: randomBytes(16).toString('hex'),
});

// Find or create the Simulator account, then set the secrets this run signs with.
const list = await fetch(`${api}/channel-accounts?provider=${webhook.account.provider}&limit=200`, { headers }).catch(
  () => fail(`cannot reach the service at ${base}: is it running (npm start)? (--url names another address)`),
);
if (list.status === 404)
  fail(
    `tenant '${values.tenant}' does not exist at ${base}: create it with POST /api/v1/tenants, or use --tenant demo`,
  );
if (!list.ok) fail(`the service at ${base} answered ${list.status}: ${(await list.text()).slice(0, 200)}`);
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
if (!saved.ok) fail(`could not prepare the simulator account: ${saved.status} ${(await saved.text()).slice(0, 300)}`);

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
