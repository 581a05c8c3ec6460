/** What the server says about the signed-in console session. */
export interface ConsoleSession {
  /** Token the server requires in the CSRF header on every write. */
  readonly csrf: string;
  readonly expiresAt: number;
  /** Node that signed the session in. */
  readonly node: string;
}

/** Header carrying the session's CSRF token (the server's `ADMIN_CSRF_HEADER`). */
export const CSRF_HEADER = 'x-syncline-csrf';

/** An error answer of the server: its code and message, and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

async function parse<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string; retryAfterMs?: number } }
    | undefined;
  if (res.ok) return body as T;
  const e = body?.error;
  throw new ApiError(res.status, e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.retryAfterMs);
}

/** GET of a console or API path (the session cookie goes along). */
export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } }));
}

/** A write with the session's CSRF header. */
export async function sendJson<T>(path: string, method: 'POST' | 'DELETE', csrf: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', [CSRF_HEADER]: csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return parse<T>(
    await fetch(path, {
      method,
      credentials: 'same-origin',
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}

/** Signs in with the admin key. */
export async function login(key: string): Promise<ConsoleSession> {
  const res = await fetch('/admin/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ key }),
  });
  return parse<ConsoleSession>(res);
}

/** The current session, or undefined when signed out. */
export async function currentSession(): Promise<ConsoleSession | undefined> {
  try {
    return await getJson<ConsoleSession>('/admin/api/session');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return undefined;
    throw err;
  }
}
