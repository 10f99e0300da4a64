/**
 * Spam rules, per tenant, kept in the tenant's settings (`settings.spam`). A message that
 * trips one marks its conversation `is_spam` with the reason; agents can unmark it.
 */
import { z } from 'zod';

export const SpamRules = z.object({
  /** Contact identifiers (phone numbers, PSIDs, email addresses, or `@domain.example`) always treated as spam. */
  blocked_identifiers: z.array(z.string().min(1).max(320)).max(10_000).default([]),
  /** More inbound messages than this from one contact within a minute is spam; 0 disables. */
  max_messages_per_minute: z.number().int().min(0).max(10_000).default(20),
  /** A first message from an unknown contact that is nothing but links. */
  block_link_only_first_message: z.boolean().default(true),
  /** Case-insensitive words or phrases. */
  keywords: z.array(z.string().min(1).max(200)).max(1_000).default([]),
});
export type SpamRules = z.infer<typeof SpamRules>;

export function spamRulesOf(settings: Record<string, unknown>): SpamRules {
  const parsed = SpamRules.safeParse(settings.spam ?? {});
  return parsed.success ? parsed.data : SpamRules.parse({});
}

/**
 * One rule that may call a message spam, in the order the rules are tried: the first whose condition holds
 * gives the reason. The conditions that need the database are applied where the message is stored
 * (`ingest_webhook` in db/migrations/tenant): `first` holds when no conversation with the contact existed
 * before the message, `rate` when the contact's inbound messages of the last minute, this one included,
 * exceed `max_messages_per_minute`. A `sticky` reason stands even after an agent said "not spam".
 */
export interface SpamCheck {
  reason: string;
  when: 'always' | 'first' | 'rate';
  sticky?: boolean;
}

const URL_RE = /\b(?:https?:\/\/|www\.)\S+/gi;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The rules that may apply to a message from `sender` with `text`, in order. */
export function spamChecks(rules: SpamRules, sender: string, text: string | null): SpamCheck[] {
  const checks: SpamCheck[] = [];
  const from = sender.toLowerCase();
  for (const blocked of rules.blocked_identifiers) {
    const b = blocked.toLowerCase();
    if (b === from || (b.startsWith('@') && from.endsWith(b))) {
      checks.push({ reason: 'blocked identifier', when: 'always', sticky: true });
      break;
    }
  }
  if (rules.max_messages_per_minute > 0)
    checks.push({ reason: `more than ${rules.max_messages_per_minute} messages a minute`, when: 'rate' });
  const body = text ?? '';
  if (rules.block_link_only_first_message && body.match(URL_RE) && body.replace(URL_RE, '').trim().length === 0)
    checks.push({ reason: 'link-only first message from an unknown contact', when: 'first' });
  for (const keyword of rules.keywords) {
    if (new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(keyword)}($|[^\\p{L}\\p{N}])`, 'iu').test(body)) {
      checks.push({ reason: `keyword: ${keyword}`, when: 'always' });
      break;
    }
  }
  return checks;
}
