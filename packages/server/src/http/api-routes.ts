import { channelRoutes } from '../channels/channel-routes.js';
import type { ServerCore } from '../core.js';
import { docRoutes } from '../docs/doc-routes.js';
import type { DocsApi } from '../docs/docs-api.js';
import type { NodeDirectory } from '../nodes/node-directory.js';
import { nodeRoutes } from '../nodes/node-routes.js';
import { presenceRoutes } from '../presence/presence-routes.js';
import type { PresenceService } from '../presence/register-presence.js';
import { type UserDirectoryService, userDirectoryRoutes } from '../users/user-directory-routes.js';
import { userRoutes } from '../users/user-routes.js';
import { type AppVersionService, appRoutes } from '../versions/app-routes.js';
import { type WebhookDeliveryService, webhookRoutes } from '../webhooks/webhook-routes.js';
import { requireApiKey } from './api-auth.js';
import { buildOpenApi } from './api-openapi.js';
import { readJsonBody, readQuery } from './api-request.js';
import { type ApiRoute, HTTP_API_PREFIX, type HttpApiOptions } from './api-route.js';
import { type HttpRouter, sendJson } from './router.js';

/**
 * What the HTTP API's routes use of the server: its core services, presence,
 * documents, publishing, the router they are added to, and the app versions.
 * The server (`SynclineServer`) provides all of it.
 */
export interface ApiServices extends AppVersionService {
  readonly core: Pick<ServerCore, 'apiKey' | 'broker' | 'namespaces' | 'subscriberCounts' | 'users'>;
  readonly presence: Pick<PresenceService, 'channels' | 'list'>;
  readonly docs: Pick<DocsApi, 'get' | 'mutate' | 'store' | 'namespaces'>;
  readonly router: Pick<HttpRouter, 'add'>;
  readonly webhooks: WebhookDeliveryService;
  /** The nodes of the cluster (`GET /v1/nodes`). */
  readonly nodes: Pick<NodeDirectory, 'list'>;
  /** Connected users and connections on every node. */
  readonly userDirectory: UserDirectoryService;
  /** Publishes from the server (no publisher user); idempotent with `key`. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
}

/** The routes of the HTTP API. */
export function apiRoutes(server: ApiServices): ApiRoute[] {
  return [
    ...channelRoutes({
      core: server.core,
      presenceChannels: () => server.presence.channels(),
      publicationWebhooks: (namespace) => server.webhooks.publicationReceivers?.(namespace) ?? 0,
      publish: (channel, data, options) => server.publish(channel, data, options),
    }),
    ...presenceRoutes({ namespaces: server.core.namespaces, list: (channel) => server.presence.list(channel) }),
    ...userRoutes({ users: server.core.users }),
    ...userDirectoryRoutes(server.userDirectory),
    ...nodeRoutes(server.nodes),
    ...docRoutes(server.docs),
    ...appRoutes(server),
    ...webhookRoutes(server.webhooks),
  ];
}

/**
 * Registers the HTTP API (`/v1/...`, API key in `Authorization: Bearer`, or
 * what `options.authenticate` accepts) and
 * its OpenAPI document at `/v1/openapi.json` on the server's router.
 */
export function registerHttpApi(server: ApiServices, options: HttpApiOptions): void {
  const routes = apiRoutes(server);
  for (const route of routes) {
    server.router.add(route.method, route.path, async (req, res, params) => {
      if (options.authenticate?.(req, route) !== true) requireApiKey(req, server.core.apiKey);
      const query = route.query ? readQuery(req, route.query) : undefined;
      const body = route.body
        ? await readJsonBody(req, route.body, route.maxBodyBytes ?? options.maxBodyBytes, route.bodyOptional === true)
        : undefined;
      const result = await route.handle({ req, params, body, query });
      sendJson(res, 200, result);
    });
  }
  let doc: unknown;
  server.router.add('GET', `${HTTP_API_PREFIX}/openapi.json`, (_req, res) => {
    doc ??= buildOpenApi(routes);
    sendJson(res, 200, doc);
  });
}
