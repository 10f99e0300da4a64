// The sandbox transport's Event Webhook posts are SendGrid's own: @sendgrid/eventwebhook accepts their ECDSA signature.
import type { OutboundMessage, StatusReport } from '@comms/adapter-kit';
import { rawJson } from '@comms/adapter-kit/testing';
import { describe, expect, it } from 'vitest';
import { sendgridEvents, sendgridSandbox } from './index.js';
import { sendgridEventKeys } from './testing.js';

const message = { from: 'simulator@inbound.example.com', to: 'traveller@example.com' } as OutboundMessage;

describe('sendgridSandbox', () => {
  it('X-Message-Id-shaped ids and signed delivered and open events', async () => {
    const keys = sendgridEventKeys();
    const id = sendgridSandbox.messageId();
    expect(id).toMatch(/^[\w-]{22}$/);
    const at = new Date('2026-12-02T10:00:00Z');
    for (const [status, event] of [
      ['delivered', 'delivered'],
      ['read', 'open'],
    ] as const) {
      const report: StatusReport = { channel: 'email', message, provider_message_id: id, status, at, url: '' };
      const hook = sendgridSandbox.statusWebhook(report, { event_private_key: keys.privateKeyDer });
      expect(JSON.parse(hook.body)).toMatchObject([{ event, email: message.to }]);
      const req = rawJson(hook.body, hook.headers);
      expect(sendgridEvents.verify(req, { event_public_key: keys.publicKey })).toEqual({ ok: true });
      expect(sendgridEvents.verify(req, { event_public_key: sendgridEventKeys().publicKey }).ok).toBe(false);
      expect(await sendgridEvents.parse(req)).toMatchObject([
        { kind: 'status', channel: 'email', external_id: id, status, recipient_identifier: message.to, timestamp: at },
      ]);
    }
    const report: StatusReport = { channel: 'email', message, provider_message_id: id, status: 'read', at, url: '' };
    expect(() => sendgridSandbox.statusWebhook(report, {})).toThrow(/event_private_key/);
  });
});
