import { type FormEvent, useState } from 'react';
import { ApiError, type ConsoleSession, login } from './api';

/** The sign-in form: the admin key, nothing else. */
export function LoginPage({ onSignedIn }: { onSignedIn: (s: ConsoleSession) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await login(key));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'rate_limited') {
        setError(`Too many failed attempts; try again in ${Math.ceil((err.retryAfterMs ?? 60_000) / 1000)} s.`);
      } else if (err instanceof ApiError && err.status === 401) {
        setError('Wrong admin key.');
      } else {
        setError(err instanceof Error ? err.message : String(err));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Syncline console</h1>
        <p className="muted">Sign in with the admin key of this deployment.</p>
        <label htmlFor="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="key"
          type="password"
          autoComplete="current-password"
          required
          // biome-ignore lint/a11y/noAutofocus: the form is the whole page; the key is the only thing to type.
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={error !== undefined}
          aria-describedby={error ? 'login-error' : undefined}
        />
        {error && (
          <p id="login-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || key === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
