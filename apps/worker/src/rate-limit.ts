/**
 * Per-account send rate, following the providers' published limits. A token bucket per account in
 * this worker process: a job waits for a token instead of failing an attempt. With several worker
 * processes each keeps its own bucket, so run one per account's share or lower the per-account rate.
 */
import type { Channel } from '@comms/adapter-kit';

/** Messages per second, by provider, unless the account's settings say `rate_limit_per_second`. */
export const DEFAULT_RATES: Record<Channel, number> = {
  // WhatsApp Cloud API: 80 messages/s per business phone number by default.
  whatsapp: 80,
  // Messenger / Instagram Send API: per-page call limits; 40/s stays well inside them.
  messenger: 40,
  instagram: 40,
  // Twilio: 1 message segment/s for a US long code; higher-throughput senders set their own rate.
  sms: 1,
  // Twilio WhatsApp senders: 80 messages/s by default.
  twilio_whatsapp: 80,
  // SendGrid v3 mail/send: generous; 100/s keeps a single key clear of 429s.
  email: 100,
};

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; updated: number }>();

  /** Waits until the key may send one more message at `perSecond`. */
  async take(key: string, perSecond: number): Promise<void> {
    for (;;) {
      const now = Date.now();
      const b = this.buckets.get(key) ?? { tokens: perSecond, updated: now };
      b.tokens = Math.min(perSecond, b.tokens + ((now - b.updated) / 1000) * perSecond);
      b.updated = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        this.buckets.set(key, b);
        return;
      }
      this.buckets.set(key, b);
      await new Promise((r) => setTimeout(r, Math.ceil(((1 - b.tokens) / perSecond) * 1000)));
    }
  }
}
