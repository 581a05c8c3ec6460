import { SynclineError } from '@syncline/protocol';
import { signToken } from '../auth/sign.js';
import { readBody, sendJson } from '../http/router.js';
import type { SynclineServer } from '../server.js';

/** Lifetime of tokens issued by the dev route. */
export const DEV_TOKEN_TTL_SEC = 24 * 3600;

/**
 * Adds `POST /dev/token` `{ "name": "Ada" }` → `{ token, user }`: signs a
 * full-access token for any name. Only for servers running on the generated
 * dev secret (demo and local development), never in production.
 */
export function addDevTokenRoute(server: SynclineServer, secret: string): void {
  server.router.add('POST', '/dev/token', async (req, res) => {
    const body = await readBody(req, 4096);
    let name: unknown;
    try {
      name = (JSON.parse(body.toString('utf8')) as { name?: unknown }).name;
    } catch {
      throw new SynclineError('invalid_command', 'Body must be JSON: { "name": "…" }.');
    }
    if (typeof name !== 'string' || !/^[\p{L}\p{N} _.-]{1,32}$/u.test(name.trim())) {
      throw new SynclineError('invalid_command', 'name must be 1–32 letters, digits, spaces, "_", "." or "-".');
    }
    const user = name.trim();
    const token = await signToken(secret, {
      sub: user,
      caps: [{ match: '*', allow: ['*'] }],
      ttlSec: DEV_TOKEN_TTL_SEC,
      info: { name: user },
    });
    sendJson(res, 200, { token, user, expiresInSec: DEV_TOKEN_TTL_SEC });
  });
}
