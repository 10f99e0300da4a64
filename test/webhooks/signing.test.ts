// Our signatures, checked against the Standard Webhooks specification
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md, "Signature scheme"):
// by an HMAC computed here from the spec's words, and by the `standardwebhooks` package's verifier.
import { createHmac } from 'node:crypto';
import { newSecret, signature } from '@comms/core/webhooks';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';

describe('webhook signatures', () => {
  it('are v1,base64(HMAC-SHA256(key = base64-decoded secret, "id.timestamp.body"))', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
      .update(`${id}.1614265330.${body}`)
      .digest('base64');
    expect(signature(secret, id, 1614265330, body)).toBe(`v1,${expected}`);
    expect(signature(secret, id, 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verify with the standardwebhooks package, and fail with another secret or a changed body', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const id = 'msg_2b1a';
    const timestamp = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'message_received', timestamp: new Date().toISOString(), data: { id: 1 } });
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature(secret, id, timestamp, body),
    };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow();
    expect(() => new Webhook(secret).verify(body.replace('1}', '2}'), headers)).toThrow();
  });
});
