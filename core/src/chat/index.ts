/** Team chat (DESIGN §6 Chat, §7): channels, members, entries, reactions, mentions, read state, typing. */
export * from './access.js';
export * from './channels.js';
export * from './entries.js';
export * from './members.js';
export * from './mentions.js';
export * from './notifications.js';
export * from './reactions.js';
export * from './read-state.js';
export * from './typing.js';
export * from './views.js';
