// The sandbox transport's status callbacks are Twilio's own: the twilio library's validateRequest accepts them.
import type { Channel, OutboundMessage, StatusReport } from '@comms/adapter-kit';
import { describe, expect, it } from 'vitest';
import { twilioSandbox, twilioStatus } from './index.js';

const URL_CALLED = 'https://comms.example.com/webhooks/acme/twilio/status';
const credentials = { account_sid: 'ACsimulated000000000000000000000', auth_token: 'token' };

describe('twilioSandbox', () => {
  it.each([
    ['sms', '+15005550006', '+14155550123'],
    ['twilio_whatsapp', '+15005550007', '+14155550123'],
  ] as [Channel, string, string][])('%s: Message SIDs and signed status callbacks', async (channel, from, to) => {
    const sid = twilioSandbox.messageId();
    expect(sid).toMatch(/^SM[0-9a-f]{32}$/);
    const message = { from, to } as OutboundMessage;
    for (const status of ['delivered', 'read'] as const) {
      const report: StatusReport = {
        channel,
        message,
        provider_message_id: sid,
        status,
        at: new Date(),
        url: URL_CALLED,
      };
      const hook = twilioSandbox.statusWebhook(report, credentials);
      const req = { url: URL_CALLED, headers: hook.headers, body: new TextEncoder().encode(hook.body) };
      expect(twilioStatus.verify(req, credentials)).toEqual({ ok: true });
      expect(twilioStatus.verify({ ...req, url: `${URL_CALLED}?x=1` }, credentials).ok).toBe(false);
      expect(await twilioStatus.accountIdentifiers(req)).toEqual([from]);
      expect(await twilioStatus.parse(req)).toMatchObject([
        { kind: 'status', channel, account_identifier: from, external_id: sid, status, recipient_identifier: to },
      ]);
    }
  });
});
