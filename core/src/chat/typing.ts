/** Typing indicators (DESIGN §10): ephemeral, never stored, at most one broadcast per user and channel every 2 s. */
import type { TenantContext } from '../platform/context.js';
import { actorId, requirePoster, visibleChannel } from './access.js';

const EVERY_MS = 2_000;
/** Clients show the indicator this long after the last broadcast. */
const EXPIRES_IN_MS = 5_000;

/**
 * Last broadcast per tenant, channel and user. In-process: with several API instances each limits its own
 * requests, so a user typing through two instances at once may be broadcast twice in 2 s (harmless: the
 * indicator is idempotent on the client).
 */
const lastSent = new Map<string, number>();

function sweep(now: number) {
  for (const [key, at] of lastSent) if (now - at >= EVERY_MS) lastSent.delete(key);
}

/** Members who may post; answers whether this call was broadcast or fell inside the 2 s window. */
export async function sendTyping(ctx: TenantContext, channelId: number): Promise<{ broadcast: boolean }> {
  const me = actorId(ctx);
  const access = await visibleChannel(ctx, channelId);
  requirePoster(ctx, access, 'type in it');
  const key = `${ctx.tenant.slug}:${channelId}:${me}`;
  const now = Date.now();
  if (now - (lastSent.get(key) ?? 0) < EVERY_MS) return { broadcast: false };
  if (lastSent.size >= 10_000) sweep(now);
  lastSent.set(key, now);
  await ctx.bus.publish({
    type: 'typing',
    tenant: ctx.tenant.slug,
    channelId,
    ephemeral: true,
    data: { channel_id: channelId, user_id: me, expires_in_ms: EXPIRES_IN_MS },
  });
  return { broadcast: true };
}
