// `npm run simulate -- ses`: the SES half of the simulator (see simulate.ts and ses-webhooks.ts).
import { fail } from './cli.js';
import {
  SIM_SES,
  SIMULATED_SES_EVENTS,
  simulatedSesAccount,
  simulatedSesEvent,
  simulatedSesMail,
  withSimulatorCertificate,
} from './ses-webhooks.js';

interface SesRun {
  base: string;
  api: string;
  headers: Record<string, string>;
  tenant: string;
  from: string;
  name: string;
  text: string;
  event: string | undefined;
  messageId: string | undefined;
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) fail(`${what}: the service answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return (await res.json()) as T;
}

/** The Simulator SES account, made once. */
async function prepareAccount(o: SesRun): Promise<void> {
  const list = await fetch(`${o.api}/channel-accounts?provider=email&limit=200`, { headers: o.headers }).catch(() =>
    fail(`cannot reach the service at ${o.base}: is it running (npm start)? (--url names another address)`),
  );
  if (list.status === 404) fail(`tenant '${o.tenant}' does not exist at ${o.base}; use --tenant demo`);
  const accounts = (await json<{ data: { identifier: string }[] }>(list, 'listing accounts')).data;
  if (accounts.some((a) => a.identifier === SIM_SES.identifier)) return;
  await json(
    await fetch(`${o.api}/channel-accounts`, {
      method: 'POST',
      headers: o.headers,
      body: JSON.stringify({ ...simulatedSesAccount(), name: 'Simulator (SES)' }),
    }),
    'creating the simulator SES account',
  );
}

/** The contact's latest reply that has an SES id. */
async function latestReply(o: SesRun): Promise<string> {
  const convs = await json<{ data: { id: number }[] }>(
    await fetch(`${o.api}/conversations?q=${encodeURIComponent(o.from)}&channel=email&limit=1`, { headers: o.headers }),
    'finding the conversation',
  );
  const conv = convs.data[0];
  if (!conv) fail(`no email conversation with ${o.from} yet: run \`npm run simulate -- ses\` first`);
  const messages = await json<{ data: { direction: string; external_id: string | null }[] }>(
    await fetch(`${o.api}/messages/conversation/${conv.id}?limit=100`, { headers: o.headers }),
    'listing messages',
  );
  const sent = messages.data.filter((m) => m.direction === 'out' && m.external_id).pop();
  if (!sent?.external_id) fail('no sent reply in that conversation yet: reply first, or pass --message-id');
  return sent.external_id;
}

export async function simulateSes(o: SesRun): Promise<void> {
  const type = o.event ? SIMULATED_SES_EVENTS[o.event] : undefined;
  if (o.event && !type) fail(`--event is one of ${Object.keys(SIMULATED_SES_EVENTS).join(', ')}`, 2);
  await prepareAccount(o);
  const messageId = type ? (o.messageId ?? (await latestReply(o))) : undefined;
  const url = `${o.base}/webhooks/${o.tenant}/ses`;
  const res = await withSimulatorCertificate(async (signing) => {
    const webhook =
      type && messageId
        ? simulatedSesEvent(signing, type, messageId, o.from)
        : simulatedSesMail(signing, { from: o.from, name: o.name, text: o.text });
    return fetch(url, { method: 'POST', headers: webhook.headers, body: webhook.body });
  });
  console.log(`ses ${type ?? 'inbound mail'} → ${res.status} ${res.statusText}`);
  if (!res.ok) {
    console.error(await res.text());
    if (res.status === 401)
      console.error(
        'the gateway trusts the simulator certificate only on the embedded defaults (or with SNS_TRUST_SIMULATOR=true)',
      );
    process.exit(1);
  }
  if (!type) console.log(`reply to it from ${o.api}/conversations?channel=email`);
}
