import { type FormEvent, type ReactNode, useState } from 'react';
import { BACKEND_URL, type Session, signIn } from '../session.ts';
import { MAX_NAME, NAME_HINT, nameProblem, normalizeName } from '../shared/identity.ts';
import { BrandMark } from './icons.tsx';

/**
 * The sign-in screen: pick a display name, get a dev token from the server;
 * or, built for an app backend (`BACKEND_URL`), a user name and password.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }): ReactNode {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  // Said as soon as the name has a character the server refuses, not only on submit.
  const problem = name.trim() === '' ? undefined : nameProblem(name);
  const shown = problem ?? error;
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const refused = nameProblem(name);
    if (refused) {
      setError(refused);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(normalizeName(name), password));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} noValidate>
        <div className="brand">
          <BrandMark />
          Syncline Chat
        </div>
        <h1>Welcome</h1>
        <p>Pick a name to join the conversation. Open a second window to chat with yourself.</p>
        <div className="field">
          <label htmlFor="name">Your name</label>
          <input
            id="name"
            className="input"
            autoComplete="nickname"
            placeholder="e.g. Ada"
            maxLength={MAX_NAME}
            value={name}
            aria-describedby="name-hint"
            aria-invalid={problem ? true : undefined}
            onChange={(e) => {
              setName(e.target.value);
              setError(undefined);
            }}
            // biome-ignore lint/a11y/noAutofocus: the only field of the screen.
            autoFocus
          />
          <div id="name-hint" className="field-hint" data-testid="name-hint">
            {NAME_HINT}
          </div>
        </div>
        {BACKEND_URL !== undefined ? (
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              className="input"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => {
                setPassword(e.target.value);
                setError(undefined);
              }}
            />
          </div>
        ) : null}
        <button className="btn btn-block" type="submit" disabled={busy || name.trim() === '' || problem !== undefined}>
          {busy ? 'Signing in…' : 'Continue'}
        </button>
        {shown ? (
          <p className="error-text" role="alert" data-testid="signin-error">
            {shown}
          </p>
        ) : null}
        <div className="fineprint">
          {BACKEND_URL !== undefined
            ? 'Signed in by the Python backend (examples/python-backend): demo users ada / lovelace and grace / hopper.'
            : 'Demo sign-in: the server issues a development token for the name, no password. Names are case-sensitive.'}
        </div>
      </form>
    </main>
  );
}
