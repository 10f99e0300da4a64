// The sandbox transport's receipts are Meta's own: the adapter verifies and parses them like Meta's.
import type { Channel, OutboundMessage, StatusReport } from '@comms/adapter-kit';
import { rawJson } from '@comms/adapter-kit/testing';
import { describe, expect, it } from 'vitest';
import { messengerInbound, messengerSandbox } from './index.js';

const message = { from: '100000000000002', to: '6543210987654321' } as OutboundMessage;

describe('messengerSandbox', () => {
  it.each(['messenger', 'instagram'] as Channel[])(
    '%s: m_ ids and signed delivery and read receipts with a watermark',
    async (channel) => {
      const id = messengerSandbox.messageId();
      expect(id).toMatch(/^m_[0-9a-f]{24}$/);
      const at = new Date('2026-12-02T10:00:00.123Z');
      for (const status of ['delivered', 'read'] as const) {
        const report: StatusReport = { channel, message, provider_message_id: id, status, at, url: '' };
        const hook = messengerSandbox.statusWebhook(report, { app_secret: 'secret' });
        const req = rawJson(hook.body, hook.headers);
        expect(messengerInbound.verify(req, { app_secret: 'secret' })).toEqual({ ok: true });
        expect(messengerInbound.verify(req, { app_secret: 'other' }).ok).toBe(false);
        expect(await messengerInbound.accountIdentifiers(req)).toEqual([message.from]);
        expect(await messengerInbound.parse(req)).toEqual([
          {
            kind: 'status',
            channel,
            account_identifier: message.from,
            external_id: null,
            watermark: at,
            recipient_identifier: message.to,
            status,
            timestamp: at,
            error: null,
          },
        ]);
      }
    },
  );
});
