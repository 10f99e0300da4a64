/** Tenant inbox settings (spam rules), kept in the registry row's `settings`. */
import { updateTenantSettings } from '@comms/db';
import type { TenantContext } from '../platform/context.js';
import { notFound } from '../platform/errors.js';
import { SpamRules, spamRulesOf } from './spam.js';

export function getSpamRules(ctx: TenantContext): SpamRules {
  return spamRulesOf(ctx.tenant.settings);
}

/** Replaces the spam rules; other instances see them within the tenant cache's few seconds. */
export async function setSpamRules(
  ctx: TenantContext,
  rules: SpamRules,
  onChanged: (slug: string) => void,
): Promise<SpamRules> {
  const parsed = SpamRules.parse(rules);
  const settings = { ...ctx.tenant.settings, spam: parsed };
  const row = await updateTenantSettings(ctx.db, ctx.tenant.slug, settings);
  if (!row) throw notFound(`tenant ${ctx.tenant.slug}`);
  ctx.tenant.settings = settings;
  onChanged(ctx.tenant.slug);
  return parsed;
}
