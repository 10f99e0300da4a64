/**
 * Mentions (DESIGN §7): users are UUIDs of the User Service, so a mention is `<@UUID>` in the content or an id
 * in the request's `mentions`; `@everyone`, `@channel` and `@here` mention every member but the author. Only
 * members get a `mentions` row (and a `mention_created` event); anyone else named is ignored.
 */
import { and, eq, type Executor, inArray } from '@comms/db';
import type { TenantContext } from '../platform/context.js';

const USER_MENTION = /<@([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})>/gi;
const CHANNEL_MENTION = /(?:^|[^\w@<])@(everyone|channel|here)\b/i;

export interface MentionRequest {
  users: string[];
  /** `everyone`, `channel` or `here`, when the content mentions the whole channel. */
  broadcast: string | undefined;
}

export function parseMentions(content: string | null | undefined, explicit: string[] = []): MentionRequest {
  const users = new Set(explicit.map((u) => u.toLowerCase()));
  for (const match of (content ?? '').matchAll(USER_MENTION)) users.add(match[1]!.toLowerCase());
  return { users: [...users], broadcast: content ? CHANNEL_MENTION.exec(content)?.[1]?.toLowerCase() : undefined };
}

export interface MentionRow {
  userId: string;
  mentionType: string;
}

/**
 * Writes the mentions of one entry for the channel's members other than the author, and returns the ones that
 * are new (an edit that names someone already mentioned adds nothing).
 */
export async function writeMentions(
  tx: Executor,
  ctx: TenantContext,
  entry: { id: number; channelId: number; authorId: string },
  request: MentionRequest,
): Promise<MentionRow[]> {
  const { channelMembers: m, mentions: mn } = ctx.tenant.tables;
  if (!request.broadcast && !request.users.length) return [];
  const members = await tx
    .select({ userId: m.userId })
    .from(m)
    .where(and(eq(m.channelId, entry.channelId), request.broadcast ? undefined : inArray(m.userId, request.users)));
  const targets = members.map((x) => x.userId).filter((u) => u !== entry.authorId);
  if (!targets.length) return [];
  return tx
    .insert(mn)
    .values(
      targets.map((userId) => ({
        entryId: entry.id,
        channelId: entry.channelId,
        userId,
        mentionType: request.broadcast ?? 'user',
      })),
    )
    .onConflictDoNothing()
    .returning({ userId: mn.userId, mentionType: mn.mentionType });
}

/** `mention_created`, to the mentioned user only. */
export async function announceMentions(
  ctx: TenantContext,
  entry: { id: number; channelId: number; authorId: string },
  rows: MentionRow[],
): Promise<void> {
  for (const row of rows)
    await ctx.bus.publish({
      type: 'mention_created',
      tenant: ctx.tenant.slug,
      channelId: entry.channelId,
      userIds: [row.userId],
      data: {
        channel_id: entry.channelId,
        entry_id: entry.id,
        user_id: row.userId,
        mentioned_by: entry.authorId,
        mention_type: row.mentionType,
      },
    });
}
