import { type AppVersionConfig, isAppVersion } from '@syncline/protocol';
import * as v from 'valibot';
import { requireApiKey } from '../http/api-auth.js';
import { readJsonBody } from '../http/api-request.js';
import { sendJson } from '../http/router.js';
import type { SynclineServer } from '../server.js';

const AppVersion = v.pipe(
  v.string(),
  v.maxLength(100),
  v.check(isAppVersion, 'expected a dotted numeric version like "2.4.0"'),
);

/** Body of `POST /v1/app/announce`. */
export const AnnounceBody = v.object({
  version: AppVersion,
  minClientVersion: v.optional(AppVersion),
  recommendedClientVersion: v.optional(AppVersion),
  message: v.optional(v.pipe(v.string(), v.maxLength(1000))),
});

const MAX_ANNOUNCE_BODY_BYTES = 8 * 1024;

/**
 * App version routes of the HTTP API (API key required):
 * `GET /v1/app` → the settings in force (`{ app: … | null }`);
 * `POST /v1/app/announce` with `{ version, minClientVersion?, recommendedClientVersion?, message? }`
 * → `{ version, notified, sessions }`: every node judges its connected
 * clients again and pushes `update` to those whose verdict changed.
 */
export function registerAppRoutes(server: SynclineServer): void {
  server.router.add('GET', '/v1/app', (req, res) => {
    requireApiKey(req, server.core.apiKey);
    sendJson(res, 200, { app: server.app ?? null });
  });
  server.router.add('POST', '/v1/app/announce', async (req, res) => {
    requireApiKey(req, server.core.apiKey);
    const body = await readJsonBody(req, AnnounceBody, MAX_ANNOUNCE_BODY_BYTES);
    const config: { -readonly [K in keyof AppVersionConfig]: AppVersionConfig[K] } = { version: body.version };
    if (body.minClientVersion !== undefined) config.minClientVersion = body.minClientVersion;
    if (body.recommendedClientVersion !== undefined) config.recommendedClientVersion = body.recommendedClientVersion;
    if (body.message !== undefined) config.message = body.message;
    sendJson(res, 200, await server.setAppVersion(config));
  });
}
