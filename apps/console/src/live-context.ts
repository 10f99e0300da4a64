import { createContext, useContext } from 'react';
import type { LiveSocket } from './live';
import type { Session } from './session';

export const LiveContext = createContext<{ live: LiveSocket | null; session: Session | null }>({
  live: null,
  session: null,
});

export function useSession(): Session {
  const { session } = useContext(LiveContext);
  if (!session) throw new Error('useSession outside the signed-in shell');
  return session;
}

export function useLive(): LiveSocket | null {
  return useContext(LiveContext).live;
}
