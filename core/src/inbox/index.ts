/** The inbox (DESIGN §6 Inbox, §7–9): conversations, messages, quick replies, channel accounts, spam, and the inbound pipeline. */
export * from './channel-accounts.js';
export * from './conversations.js';
export * from './ingest.js';
export * from './media-items.js';
export * from './messages.js';
export * from './outbound.js';
export * from './outbound-media.js';
export * from './quick-replies.js';
export * from './receive.js';
export * from './settings.js';
export * from './spam.js';
export * from './status.js';
export * from './status-updates.js';
export * from './views.js';
export * from './webhook-routes.js';
