/**
 * What the Messenger, Twilio and SendGrid round trips share: the provider stack (./provider-stack.ts) behind the
 * public base URL Twilio signs, with a fake that answers each provider's send as it documents:
 * - Messenger: https://developers.facebook.com/docs/messenger-platform/reference/send-api/ (`message_id`)
 * - Twilio: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource (201, `sid`)
 * - SendGrid: https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send (202, `X-Message-Id`)
 * Call `useRoundTripStack()` at the top of a test file.
 */
import { useProviderStack } from './provider-stack.js';

export { db, fake, h, messageRow } from './provider-stack.js';

export const PUBLIC_BASE = 'https://comms.example.com';

export function useRoundTripStack(): void {
  useProviderStack({
    responder: (req) => {
      if (req.path === '/me/messages')
        return { status: 200, body: { recipient_id: req.json.recipient.id, message_id: `m_out_${Date.now()}` } };
      if (req.path.includes('/Messages.json'))
        return { status: 201, body: { sid: `SM${Date.now()}0000000000000000000`, status: 'queued' } };
      if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `SG${Date.now()}` } };
      return { status: 404, body: {} };
    },
    env: { PUBLIC_BASE_URL: PUBLIC_BASE },
  });
}
