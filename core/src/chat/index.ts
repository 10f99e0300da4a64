/** Team chat: channels, members, entries, read state (a first slice; see the README's status). */
export * from './channels.js';
export * from './entries.js';
export * from './notifications.js';
