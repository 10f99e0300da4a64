import { type FormEvent, useState } from 'react';
import { type Session, sessionFrom } from './session';

export function SignIn({ error, onSignIn }: { error: string | null; onSignIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [tenant, setTenant] = useState('');
  const [problem, setProblem] = useState<string | null>(error);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const s = sessionFrom(token, tenant || undefined);
    if ('error' in s) setProblem(s.error);
    else onSignIn(s);
  };

  return (
    <main id="main" className="signin">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Agent console</h1>
        <p className="muted">
          Sign in with an access token from the User Service. In development, open the console link that{' '}
          <code>npm start</code> prints, or run <code>npm run token -- --tenant demo</code>.
        </p>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        <label htmlFor="token">Access token</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          required
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
        />
        <label htmlFor="tenant">Tenant (only when the token names none)</label>
        <input id="tenant" name="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} />
        <button type="submit" className="primary">
          Sign in
        </button>
        <p className="muted small">
          The token stays in this tab only (session storage) and is sent to this server alone.
        </p>
      </form>
    </main>
  );
}
