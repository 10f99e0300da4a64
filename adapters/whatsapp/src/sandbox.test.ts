// The sandbox transport's status webhooks are WhatsApp's own: the adapter verifies and parses them like Meta's.
import type { OutboundMessage, StatusReport } from '@comms/adapter-kit';
import { rawJson } from '@comms/adapter-kit/testing';
import { describe, expect, it } from 'vitest';
import { whatsappInbound, whatsappSandbox } from './index.js';

const message = { from: '100000000000001', to: '5511999990000' } as OutboundMessage;

describe('whatsappSandbox', () => {
  it('gives wamid-shaped ids and signed status webhooks the adapter verifies and parses', async () => {
    const id = whatsappSandbox.messageId();
    expect(id).toMatch(/^wamid\.[0-9a-f]{32}$/);
    const at = new Date('2026-12-02T10:00:00Z');
    for (const status of ['delivered', 'read'] as const) {
      const report: StatusReport = { channel: 'whatsapp', message, provider_message_id: id, status, at, url: '' };
      const hook = whatsappSandbox.statusWebhook(report, { app_secret: 'secret' });
      const req = rawJson(hook.body, hook.headers);
      expect(whatsappInbound.verify(req, { app_secret: 'secret' })).toEqual({ ok: true });
      expect(whatsappInbound.verify(req, { app_secret: 'other' }).ok).toBe(false);
      expect(await whatsappInbound.accountIdentifiers(req)).toEqual([message.from]);
      expect(await whatsappInbound.parse(req)).toMatchObject([
        {
          kind: 'status',
          channel: 'whatsapp',
          external_id: id,
          status,
          recipient_identifier: message.to,
          timestamp: at,
        },
      ]);
    }
  });
  it('refuses to sign without the app secret', () => {
    const report: StatusReport = {
      channel: 'whatsapp',
      message,
      provider_message_id: 'wamid.x',
      status: 'read',
      at: new Date(),
      url: '',
    };
    expect(() => whatsappSandbox.statusWebhook(report, {})).toThrow(/app_secret/);
  });
});
