/** Pure helpers the views share: names, times, ticks, the reply window, templates, mentions. */
import type { Attachment, Channel, Conversation, Member, Message } from './types';

export const WINDOW_MS = 24 * 60 * 60 * 1000;
/** Channels whose providers only take free-form replies within 24 hours of the customer's last message. */
const WINDOWED = new Set(['whatsapp', 'messenger', 'instagram', 'twilio_whatsapp']);

export const CHANNEL_LABELS: Record<string, string> = {
  whatsapp: 'WhatsApp',
  messenger: 'Messenger',
  instagram: 'Instagram',
  sms: 'SMS',
  twilio_whatsapp: 'WhatsApp (Twilio)',
  email: 'Email',
};

export function channelLabel(channel: string): string {
  return CHANNEL_LABELS[channel] ?? channel;
}

export function contactLabel(c: Pick<Conversation, 'contact_name' | 'contact_identifier'>): string {
  return c.contact_name?.trim() || c.contact_identifier;
}

/** Initials for an avatar: two letters of the name, or the identifier's last two digits. */
export function initials(label: string): string {
  const words = label
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length >= 2) return (words[0]![0]! + words[1]![0]!).toUpperCase();
  const w = words[0] ?? '?';
  return /^\d+$/.test(w) ? w.slice(-2) : w.slice(0, 2).toUpperCase();
}

/** "14:05" today, "Tue" this week, "3 Dec" otherwise. */
export function shortTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const sameDay = d.toDateString() === now.toDateString();
  if (sameDay) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (now.getTime() - d.getTime() < 6 * 24 * 3600 * 1000) return d.toLocaleDateString([], { weekday: 'short' });
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export interface Tick {
  symbol: string;
  label: string;
}

/** The delivery tick of an outbound message, with the words a screen reader says. */
export function statusTick(status: Message['status']): Tick {
  switch (status) {
    case 'pending':
      return { symbol: '🕓', label: 'Sending' };
    case 'sent':
      return { symbol: '✓', label: 'Sent' };
    case 'delivered':
      return { symbol: '✓✓', label: 'Delivered' };
    case 'read':
      return { symbol: '✓✓', label: 'Read' };
    case 'failed':
      return { symbol: '!', label: 'Failed' };
  }
}

export interface ReplyWindow {
  /** Whether the channel has a 24-hour window at all. */
  applies: boolean;
  open: boolean;
  /** Milliseconds left while open. */
  remainingMs: number;
  /** Only WhatsApp Cloud API conversations can be answered with a template once it closes. */
  templates: boolean;
}

export function replyWindow(c: Pick<Conversation, 'channel' | 'last_inbound_at'>, now = Date.now()): ReplyWindow {
  const templates = c.channel === 'whatsapp';
  if (!WINDOWED.has(c.channel)) return { applies: false, open: true, remainingMs: Infinity, templates };
  const last = c.last_inbound_at ? Date.parse(c.last_inbound_at) : Number.NaN;
  const remainingMs = Number.isNaN(last) ? 0 : Math.max(0, last + WINDOW_MS - now);
  return { applies: true, open: remainingMs > 0, remainingMs, templates };
}

export function duration(ms: number): string {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

const VARIABLE = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/gi;

/** Quick-reply variables as the API fills them; unknown ones stay written and are listed. */
export function renderVariables(
  template: string,
  vars: Record<string, string | null | undefined>,
): { text: string; missing: string[] } {
  const missing = new Set<string>();
  const text = template.replace(VARIABLE, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined || v === null) {
      missing.add(name);
      return whole;
    }
    return v;
  });
  return { text, missing: [...missing] };
}

export function conversationVariables(c: Pick<Conversation, 'contact_name' | 'contact_identifier' | 'channel'>) {
  return {
    contact_name: c.contact_name,
    first_name: c.contact_name?.split(/\s+/)[0],
    contact_identifier: c.contact_identifier,
    channel: c.channel,
  };
}

/** The `/word` being typed at the start of the reply box, or null when the quick-reply picker is not asked for. */
export function slashQuery(text: string): string | null {
  const m = /^\/(\S*)$/.exec(text);
  return m ? m[1]!.toLowerCase() : null;
}

/** Users are User Service UUIDs: a member's nickname when set, else a short form of the id. */
export function memberName(userId: string | null, members: Pick<Member, 'user_id' | 'nickname'>[], me?: string) {
  if (!userId) return 'System';
  const m = members.find((x) => x.user_id === userId);
  const name = m?.nickname?.trim() || `user-${userId.slice(0, 8)}`;
  return userId === me ? `${name} (you)` : name;
}

const MENTION = /<@([0-9a-f-]{36})>/gi;

export type Segment = ({ text: string } | { mention: string; userId: string }) & { at: number };

/** Content split into text and `<@uuid>` mentions, each mention named from the member list. */
export function mentionSegments(content: string, members: Pick<Member, 'user_id' | 'nickname'>[]): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of content.matchAll(MENTION)) {
    if (m.index! > last) out.push({ text: content.slice(last, m.index), at: last });
    out.push({ mention: `@${memberName(m[1]!, members)}`, userId: m[1]!, at: m.index! });
    last = m.index! + m[0].length;
  }
  if (last < content.length) out.push({ text: content.slice(last), at: last });
  return out;
}

/** Content with its mentions written as names, for one-line quotes. */
export function plainText(content: string | null, members: Pick<Member, 'user_id' | 'nickname'>[]): string {
  return mentionSegments(content ?? '', members)
    .map((s) => ('mention' in s ? s.mention : s.text))
    .join('');
}

/** The `@word` being typed just before the caret, for mention autocomplete. */
export function mentionQuery(text: string, caret: number): { query: string; start: number } | null {
  const m = /(^|\s)@([\p{L}\p{N}._-]*)$/u.exec(text.slice(0, caret));
  return m ? { query: m[2]!.toLowerCase(), start: caret - m[2]!.length - 1 } : null;
}

/** What the composer shows (`@name`) turned into what the API reads (`<@uuid>`), for the mentions picked. */
export function encodeMentions(text: string, picked: Map<string, string>): string {
  let out = text;
  for (const [name, id] of [...picked].sort((a, b) => b[0].length - a[0].length))
    out = out.split(`@${name}`).join(`<@${id}>`);
  return out;
}

/** How an attachment is shown: an image inline when the media store has it, else a link, else its state. */
export function attachmentView(a: Attachment): { kind: 'image' | 'link' | 'note'; url?: string; label: string } {
  const label = a.filename ?? a.name ?? (a.mime_type ? `${a.mime_type} file` : 'attachment');
  if (a.status === 'failed' || a.status === 'rejected')
    return { kind: 'note', label: `${label}: not available (${a.error ?? a.status})` };
  if (typeof a.url === 'string' && a.url) {
    if (a.mime_type?.startsWith('image/')) return { kind: 'image', url: a.url, label };
    return { kind: 'link', url: a.url, label };
  }
  return { kind: 'note', label: a.status === 'pending' ? `${label} (being fetched)` : label };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function channelTitle(c: Pick<Channel, 'id' | 'name' | 'type'>): string {
  if (c.type === 'direct') return c.name?.trim() || `Direct message ${c.id}`;
  return `# ${c.name ?? c.id}`;
}
