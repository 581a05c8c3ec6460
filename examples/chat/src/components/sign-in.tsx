import { type FormEvent, type ReactNode, useState } from 'react';
import { type Session, signIn } from '../session.ts';
import { BrandMark } from './icons.tsx';

/** The sign-in screen: pick a display name, get a dev token from the server. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }): ReactNode {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(name.trim()));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit}>
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
            maxLength={32}
            value={name}
            onChange={(e) => setName(e.target.value)}
            // biome-ignore lint/a11y/noAutofocus: the only field of the screen.
            autoFocus
          />
        </div>
        <button className="btn btn-block" type="submit" disabled={busy || name.trim() === ''}>
          {busy ? 'Signing in…' : 'Continue'}
        </button>
        {error ? (
          <p className="error-text" role="alert">
            {error}
          </p>
        ) : null}
        <div className="fineprint">Demo sign-in: the server issues a development token for any name.</div>
      </form>
    </main>
  );
}
