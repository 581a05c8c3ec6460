/**
 * Sign-in for the example. By default the Syncline server started without an
 * `auth` config issues dev tokens at `POST /dev/token` for names that pass
 * `nameProblem` (src/shared/identity.ts). Built with `VITE_BACKEND_URL` set
 * (`npm run build:python`, which reads `.env.python`), the chat signs in at
 * that backend's `POST /login` with a password instead and connects with the
 * session it gets, through Syncline's connect proxy
 * (examples/python-backend). See README.md.
 */

/** The app backend with `POST /login`, when the chat is built for one (`.env.python`). */
export const BACKEND_URL: string | undefined = import.meta.env.VITE_BACKEND_URL || undefined;

/** A signed-in user: a Syncline token (dev sign-in) or a session of the app backend. */
export interface Session {
  readonly user: string;
  readonly token?: string;
  readonly session?: string;
}

// Per tab (sessionStorage): two tabs can be two users, and a reload keeps the tab's user.
const KEY = 'syncline-chat.session';

/** The session kept in this browser, if any. */
export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.user !== 'string') return undefined;
    if (BACKEND_URL !== undefined)
      return typeof s.session === 'string' ? { user: s.user, session: s.session } : undefined;
    return typeof s.token === 'string' ? { user: s.user, token: s.token } : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets the session (and ends it at the backend, if it has one). */
export function clearSession(): void {
  const session = loadSession()?.session;
  sessionStorage.removeItem(KEY);
  if (BACKEND_URL !== undefined && session !== undefined) {
    void fetch(`${BACKEND_URL}/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    }).catch(() => undefined);
  }
}

/** Signs in (a dev token for `name`, or the backend's session for `name` and `password`) and keeps the session. */
export async function signIn(name: string, password = ''): Promise<Session> {
  const backend = BACKEND_URL !== undefined;
  const res = await fetch(backend ? `${BACKEND_URL}/login` : '/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(backend ? { user: name, password } : { name }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    token?: string;
    session?: string;
    user?: string;
    error?: { message?: string };
  };
  const secret = backend ? body.session : body.token;
  if (!res.ok || !secret || !body.user) {
    throw new Error(body.error?.message ?? `Sign-in failed (HTTP ${res.status}).`);
  }
  const session: Session = backend ? { user: body.user, session: secret } : { user: body.user, token: secret };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** A fresh token for the signed-in user (called by the client when the old one expires). */
export async function renewToken(user: string): Promise<string> {
  const { token } = await signIn(user);
  if (token === undefined) throw new Error('Signed in with a session, not a token.');
  return token;
}
