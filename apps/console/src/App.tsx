import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { socketUrl, setApiSession } from './api';
import { applyEvent } from './cache';
import { ChatView } from './chat/ChatView';
import { InboxView } from './inbox/InboxView';
import { LiveContext } from './live-context';
import { LiveSocket, type LiveState } from './live';
import { hrefOf, onLinkClick, type Route, useRoute } from './router';
import { type Session, isAdmin, loadSession, saveSession, sessionFrom, takeTokenFromLocation } from './session';
import { SettingsView } from './settings/SettingsView';
import { SignIn } from './SignIn';

function initialSession(): { session: Session | null; error: string | null } {
  const fromLink = takeTokenFromLocation(location, history);
  if (fromLink) {
    const s = sessionFrom(fromLink);
    if ('error' in s) return { session: null, error: s.error };
    saveSession(sessionStorage, s);
    return { session: s, error: null };
  }
  return { session: loadSession(sessionStorage), error: null };
}

const boot = initialSession();
// Before the first render, so the first queries already carry the token.
setApiSession(boot.session, () => {});

export function App() {
  const [session, setSession] = useState<Session | null>(boot.session);
  const [error, setError] = useState<string | null>(boot.error);
  const qc = useQueryClient();

  const signOut = (reason: string | null) => {
    saveSession(sessionStorage, null);
    qc.clear();
    setError(reason);
    setSession(null);
  };
  setApiSession(session, () => signOut('The token was refused (expired or revoked): sign in again.'));

  if (!session)
    return (
      <SignIn
        error={error}
        onSignIn={(s) => {
          saveSession(sessionStorage, s);
          setApiSession(s, () => {});
          setError(null);
          setSession(s);
        }}
      />
    );
  return <Shell session={session} onSignOut={() => signOut(null)} />;
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const qc = useQueryClient();
  const [live, setLive] = useState<LiveSocket | null>(null);
  const [state, setState] = useState<LiveState>('connecting');

  useEffect(() => {
    const socket = new LiveSocket({
      url: (last) => socketUrl(location, session, last),
      onEvent: (e) => applyEvent(qc, e, session.userId),
      // Outside the replay window: everything shown may be stale, so all of it is fetched again.
      onResync: () => void qc.invalidateQueries(),
      onState: setState,
    });
    socket.start();
    setLive(socket);
    return () => socket.stop();
  }, [session, qc]);

  useEffect(() => {
    const titles = { inbox: 'Inbox', chat: 'Team chat', settings: 'Settings' };
    document.title = `${titles[route.view]} · Agent console`;
  }, [route.view]);

  const nav: { route: Route; label: string; show: boolean }[] = [
    { route: { view: 'inbox', id: null }, label: 'Inbox', show: true },
    { route: { view: 'chat', id: null }, label: 'Team chat', show: true },
    { route: { view: 'settings' }, label: 'Settings', show: isAdmin(session) },
  ];

  return (
    <LiveContext.Provider value={{ live, session }}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <span aria-hidden="true">◆</span> <span className="sr-only">Agent console, tenant </span>
          {session.tenant}
        </span>
        <nav aria-label="Main">
          <ul>
            {nav
              .filter((n) => n.show)
              .map((n) => {
                const href = hrefOf(n.route);
                const current = route.view === n.route.view;
                return (
                  <li key={n.label}>
                    <a href={href} aria-current={current ? 'page' : undefined} onClick={(e) => onLinkClick(e, href)}>
                      {n.label}
                    </a>
                  </li>
                );
              })}
          </ul>
        </nav>
        <span className={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection">
          {state === 'open' ? 'Live' : state === 'closed' ? 'Offline' : 'Reconnecting…'}
        </span>
        <button type="button" className="ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === 'inbox' && <InboxView id={route.id} />}
        {route.view === 'chat' && <ChatView id={route.id} />}
        {route.view === 'settings' && <SettingsView />}
      </main>
    </LiveContext.Provider>
  );
}
