// What drizzle-kit generates the tenant migrations from; the migrator rewrites the
// placeholder schema name into each tenant's schema when it applies them.
import { TEMPLATE_SCHEMA, tenantTables } from './tenant.js';

export const {
  schema,
  channelAccounts,
  inboxConversations,
  inboxMessages,
  inboxQuickReplies,
  webhookEvents,
  channels,
  channelMembers,
  chatEntries,
  chatEntryEdits,
  chatReactions,
  mentions,
  media,
  webhookEndpoints,
  webhookDeliveries,
  webhookDeliveryAttempts,
} = tenantTables(TEMPLATE_SCHEMA);
