/** Team chat: channels, members, entries, reactions, mentions, read state. */
export {};
