/** Who is typing where: fed by `typing` events, each entry expiring after the `expires_in_ms` they carry. */
import { useSyncExternalStore } from 'react';

const typing = new Map<number, Map<string, number>>();
const listeners = new Set<() => void>();
let version = 0;
const bump = () => {
  version += 1;
  for (const l of listeners) l();
};

export function noteTyping(channelId: number, userId: string, expiresInMs = 5000): void {
  const m = typing.get(channelId) ?? new Map<string, number>();
  m.set(userId, Date.now() + expiresInMs);
  typing.set(channelId, m);
  bump();
  setTimeout(bump, expiresInMs + 50);
}

/** A message from someone ends their typing at once. */
export function clearTyping(channelId: number, userId: string): void {
  if (typing.get(channelId)?.delete(userId)) bump();
}

export function typersIn(channelId: number, now = Date.now()): string[] {
  return [...(typing.get(channelId) ?? new Map<string, number>())].filter(([, until]) => until > now).map(([u]) => u);
}

export function useTypers(channelId: number): string[] {
  useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => version,
  );
  return typersIn(channelId);
}
