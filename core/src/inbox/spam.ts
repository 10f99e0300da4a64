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

export interface SpamInput {
  sender: string;
  text: string | null;
  /** No conversation with this contact existed before this message. */
  firstContact: boolean;
  /** Inbound messages from this contact in the last minute, this one excluded. */
  recentCount: number;
}

const URL_RE = /\b(?:https?:\/\/|www\.)\S+/gi;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The reason the message is spam, or null. */
export function detectSpam(rules: SpamRules, input: SpamInput): string | null {
  const sender = input.sender.toLowerCase();
  for (const blocked of rules.blocked_identifiers) {
    const b = blocked.toLowerCase();
    if (b === sender || (b.startsWith('@') && sender.endsWith(b))) return 'blocked identifier';
  }
  if (rules.max_messages_per_minute > 0 && input.recentCount + 1 > rules.max_messages_per_minute)
    return `more than ${rules.max_messages_per_minute} messages a minute`;
  const text = input.text ?? '';
  if (rules.block_link_only_first_message && input.firstContact && text.match(URL_RE)) {
    if (text.replace(URL_RE, '').trim().length === 0) return 'link-only first message from an unknown contact';
  }
  for (const keyword of rules.keywords) {
    if (new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(keyword)}($|[^\\p{L}\\p{N}])`, 'iu').test(text))
      return `keyword: ${keyword}`;
  }
  return null;
}
