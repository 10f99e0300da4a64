/**
 * Per-account send rate, following the providers' published limits. The limiter is the runtime's
 * (`runtime.rateLimits`): one schedule per account in Redis shared by every worker process and host, so the
 * rate holds however many run; a job waits for its turn instead of failing an attempt.
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
