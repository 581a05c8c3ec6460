/**
 * Sign-in for the example: the Syncline server started without an `auth`
 * config issues dev tokens at `POST /dev/token` for names that pass
 * `nameProblem` (src/shared/identity.ts). A real app would get the token
 * from its own backend instead (see README.md).
 */

/** A signed-in user. */
export interface Session {
  readonly user: string;
  readonly token: string;
}

// Per tab (sessionStorage): two tabs can be two users, and a reload keeps the tab's user.
const KEY = 'syncline-chat.session';

/** The session kept in this browser, if any. */
export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.user === 'string' && typeof s.token === 'string' ? { user: s.user, token: s.token } : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets the session. */
export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** Asks the server for a token for `name` and keeps the session. */
export async function signIn(name: string): Promise<Session> {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; user?: string; error?: { message?: string } };
  if (!res.ok || !body.token || !body.user) {
    throw new Error(body.error?.message ?? `Sign-in failed (HTTP ${res.status}).`);
  }
  const session = { user: body.user, token: body.token };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** A fresh token for the signed-in user (called by the client when the old one expires). */
export async function renewToken(user: string): Promise<string> {
  return (await signIn(user)).token;
}
