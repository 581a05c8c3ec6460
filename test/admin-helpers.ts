import type { SynclineServer } from '@syncline/server';

/** The console key of the test servers (32 bytes, as production asks). */
export const ADMIN_KEY = 'admin-key-0123456789-abcdefghijklmn';

/** A signed-in console session: the cookie to send and the CSRF token. */
export interface ConsoleLogin {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
}

/** POSTs `/admin/login` with a key (and extra headers); returns the raw response. */
export function postLogin(url: string, key: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ key }),
  });
}

/** Signs in to a server's console; throws when refused. */
export async function consoleLogin(server: SynclineServer, key = ADMIN_KEY): Promise<ConsoleLogin> {
  const res = await postLogin(server.url, key);
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie: setCookie.split(';')[0] as string, csrf, setCookie };
}

/** A console connection token for a signed-in session. */
export async function consoleToken(server: SynclineServer, login: ConsoleLogin): Promise<string> {
  const res = await fetch(`${server.url}/admin/api/token`, { headers: { cookie: login.cookie } });
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
