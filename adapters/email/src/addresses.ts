/** Email address and Message-ID helpers shared by parse and send. */

/** `Ana Lima <ana@example.com>` → `{ name: 'Ana Lima', address: 'ana@example.com' }` (address lower-cased). */
export function parseAddress(value: string): { name: string | null; address: string } | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  const angle = trimmed.match(/^(.*?)<([^<>\s]+@[^<>\s]+)>\s*$/);
  if (angle) {
    const name = angle[1]!
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .trim();
    return { name: name || null, address: angle[2]!.toLowerCase() };
  }
  const bare = trimmed.match(/^[^\s@<>]+@[^\s@<>]+$/);
  return bare ? { name: null, address: trimmed.toLowerCase() } : null;
}

/** A comma-separated address list (commas inside quoted names are kept). */
export function parseAddressList(value: string | undefined | null): { name: string | null; address: string }[] {
  if (!value) return [];
  const parts = value.match(/(?:"[^"]*"|[^,])+/g) ?? [];
  return parts.map(parseAddress).filter((a): a is { name: string | null; address: string } => a !== null);
}

/**
 * One normal form for Message-IDs, used for message_id, in_reply_to and references alike:
 * without the angle brackets. `<abc@x>` → `abc@x`.
 */
export function normalizeMessageId(id: string): string {
  return id.trim().replace(/^<|>$/g, '');
}

/** `<a@x> <b@y>` → `['a@x', 'b@y']`. */
export function messageIdList(value: string | undefined | null): string[] {
  if (!value) return [];
  const ids = value.match(/<[^<>]+>/g);
  return ids ? ids.map(normalizeMessageId) : value.split(/\s+/).filter(Boolean).map(normalizeMessageId);
}
