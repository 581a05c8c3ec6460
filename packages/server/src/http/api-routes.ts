import { type ErrorCode, type PresenceEntry, SynclineError } from '@syncline/protocol';
import type * as v from 'valibot';
import { defaultRevocationTime } from '../auth/revocations.js';
import type { ServerCore } from '../core.js';
import { docRoutes } from '../docs/doc-routes.js';
import type { DocsApi } from '../docs/docs-api.js';
import type { PresenceService } from '../presence/register-presence.js';
import { type AppVersionService, appRoutes } from '../versions/app-routes.js';
import { requireApiKey } from './api-auth.js';
import { buildOpenApi } from './api-openapi.js';
import { readJsonBody, readQuery, validate } from './api-request.js';
import { type ApiRoute, HTTP_API_PREFIX, type HttpApiOptions } from './api-route.js';
import {
  ApiChannel,
  ApiUser,
  BatchPublishBody,
  BatchPublishResponse,
  ChannelsQuery,
  ChannelsResponse,
  DisconnectBody,
  DisconnectResponse,
  HistoryQuery,
  HistoryResponse,
  PresenceResponse,
  PublishBody,
  PublishResponse,
  RevokeBody,
  RevokeResponse,
  UnrevokeResponse,
  UserMessageBody,
  UserMessageResponse,
} from './api-schemas.js';
import { type HttpRouter, sendJson } from './router.js';

/**
 * What the HTTP API's routes use of the server: its core services, presence,
 * documents, publishing, the router they are added to, and the app versions.
 * The server (`SynclineServer`) provides all of it.
 */
export interface ApiServices extends AppVersionService {
  readonly core: Pick<ServerCore, 'apiKey' | 'broker' | 'namespaces' | 'subscriberCounts' | 'users'>;
  readonly presence: Pick<PresenceService, 'channels' | 'list'>;
  readonly docs: Pick<DocsApi, 'get' | 'mutate'>;
  readonly router: Pick<HttpRouter, 'add'>;
  /** Publishes from the server (no publisher user); idempotent with `key`. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
}

const CHANNEL_ERRORS: readonly ErrorCode[] = ['invalid_request', 'bad_channel', 'unknown_namespace'];

function channelParam(server: ApiServices, params: Readonly<Record<string, string>>): string {
  const channel = validate(ApiChannel, params.channel, 'path');
  server.core.namespaces.forChannel(channel);
  return channel;
}

function userParam(params: Readonly<Record<string, string>>): string {
  return validate(ApiUser, params.user, 'path');
}

async function publishOne(server: ApiServices, p: v.InferOutput<typeof PublishBody>) {
  const outcome = await server.publish(p.channel, p.data, p.key === undefined ? {} : { key: p.key });
  return { channel: p.channel, offset: outcome.offset, epoch: outcome.epoch, duplicate: outcome.duplicate };
}

/** The routes of the HTTP API. */
export function apiRoutes(server: ApiServices): ApiRoute[] {
  const core = server.core;
  return [
    {
      method: 'POST',
      path: '/v1/publish',
      operationId: 'publish',
      summary: 'Publish to a channel (idempotent with `key`).',
      body: PublishBody,
      response: PublishResponse,
      errors: [...CHANNEL_ERRORS, 'frame_too_large', 'unavailable'],
      handle: async ({ body }) => {
        const p = body as v.InferOutput<typeof PublishBody>;
        core.namespaces.forChannel(p.channel);
        return publishOne(server, p);
      },
    },
    {
      method: 'POST',
      path: '/v1/publish/batch',
      operationId: 'publishBatch',
      summary: 'Publish several publications; all are validated before any is published.',
      body: BatchPublishBody,
      response: BatchPublishResponse,
      errors: [...CHANNEL_ERRORS, 'frame_too_large', 'unavailable'],
      handle: async ({ body }) => {
        const { publications } = body as v.InferOutput<typeof BatchPublishBody>;
        publications.forEach((p, i) => {
          try {
            core.namespaces.forChannel(p.channel);
          } catch (err) {
            if (err instanceof SynclineError) {
              throw new SynclineError(err.code, `publications.${i}: ${err.message}`, {
                details: { path: `publications.${i}.channel` },
              });
            }
            throw err;
          }
        });
        const results = await Promise.all(publications.map((p) => publishOne(server, p)));
        return { results };
      },
    },
    {
      method: 'GET',
      path: '/v1/channels',
      operationId: 'listChannels',
      summary: 'Channels with subscribers or presence, with counts over every node.',
      query: ChannelsQuery,
      response: ChannelsResponse,
      errors: ['invalid_request'],
      handle: async ({ query }) => {
        const q = query as v.InferOutput<typeof ChannelsQuery>;
        const limit = q.limit === undefined ? 1000 : Number(q.limit);
        if (limit < 1 || limit > 10_000) {
          throw new SynclineError('invalid_request', 'Invalid query at "limit": expected 1 to 10000.', {
            details: { path: 'limit', in: 'query' },
          });
        }
        const subs = await core.subscriberCounts();
        const present = await server.presence.channels();
        const names = new Set([...subs.keys(), ...present.keys()]);
        const channels = [...names]
          .filter((c) => q.prefix === undefined || c.startsWith(q.prefix))
          .sort()
          .slice(0, limit)
          .map((channel) => ({ channel, subscribers: subs.get(channel) ?? 0, present: present.get(channel) ?? 0 }));
        return { channels };
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:channel/history',
      operationId: 'channelHistory',
      summary: 'Retained history of a channel, paged by offset.',
      params: { channel: ApiChannel },
      query: HistoryQuery,
      response: HistoryResponse,
      errors: CHANNEL_ERRORS,
      handle: async ({ params, query }) => {
        const channel = channelParam(server, params);
        const ns = core.namespaces.forChannel(channel);
        const q = query as v.InferOutput<typeof HistoryQuery>;
        const since = q.since === undefined ? 0 : Number(q.since);
        const limit = q.limit === undefined ? 100 : Number(q.limit);
        if (limit < 1 || limit > 1000) {
          throw new SynclineError('invalid_request', 'Invalid query at "limit": expected 1 to 1000.', {
            details: { path: 'limit', in: 'query' },
          });
        }
        const read = await core.broker.history(channel, { since, limit, history: ns.history });
        const last = read.publications[read.publications.length - 1];
        const base = {
          channel,
          epoch: read.epoch,
          offset: read.offset,
          minOffset: read.minOffset,
          publications: read.publications,
        };
        return last !== undefined && last.offset < read.offset ? { ...base, next: last.offset } : base;
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:channel/presence',
      operationId: 'channelPresence',
      summary: 'Presence set of a channel, one member per user with one entry per connection.',
      params: { channel: ApiChannel },
      response: PresenceResponse,
      errors: [...CHANNEL_ERRORS, 'presence_disabled'],
      handle: async ({ params }) => {
        const channel = channelParam(server, params);
        const snapshot = await server.presence.list(channel);
        return { channel, seq: snapshot.seq, members: groupMembers(snapshot.entries) };
      },
    },
    {
      method: 'POST',
      path: '/v1/users/:user/disconnect',
      operationId: 'disconnectUser',
      summary: 'Disconnect every connection of a user; with `reconnect: false` also revoke their tokens.',
      params: { user: ApiUser },
      body: DisconnectBody,
      bodyOptional: true,
      response: DisconnectResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof DisconnectBody>;
        const reason = b.reason ?? 'disconnected by the HTTP API';
        if (b.reconnect === false) {
          const r = core.users.revoke(user, defaultRevocationTime(), reason);
          await r.cluster;
          return { user, disconnected: r.local.disconnected, revokedBefore: r.local.before };
        }
        const r = core.users.disconnect(user, 'FORCE_DISCONNECT', reason);
        await r.cluster;
        return { user, disconnected: r.local };
      },
    },
    {
      method: 'POST',
      path: '/v1/users/:user/revoke',
      operationId: 'revokeUser',
      summary: "Refuse a user's tokens issued before a time and disconnect the connections holding them.",
      params: { user: ApiUser },
      body: RevokeBody,
      bodyOptional: true,
      response: RevokeResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof RevokeBody>;
        const r = core.users.revoke(
          user,
          b.before ?? defaultRevocationTime(),
          b.reason ?? 'access revoked by the HTTP API',
        );
        await r.cluster;
        return { user, before: r.local.before, disconnected: r.local.disconnected };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/users/:user/revoke',
      operationId: 'unrevokeUser',
      summary: "Lift a user's revocation.",
      params: { user: ApiUser },
      response: UnrevokeResponse,
      errors: ['invalid_request', 'unavailable'],
      handle: async ({ params }) => {
        const user = userParam(params);
        const r = core.users.lift(user);
        await r.cluster;
        return { user, lifted: r.local };
      },
    },
    {
      method: 'POST',
      path: '/v1/users/:user/messages',
      operationId: 'sendToUser',
      summary: 'Send a message to every connection of a user (a `message` push).',
      params: { user: ApiUser },
      body: UserMessageBody,
      response: UserMessageResponse,
      errors: ['invalid_request', 'frame_too_large', 'unavailable'],
      handle: async ({ params, body }) => {
        const user = userParam(params);
        const b = body as v.InferOutput<typeof UserMessageBody>;
        const r = core.users.sendToUser(user, b.data);
        await r.cluster;
        return { user, delivered: r.local };
      },
    },
    ...docRoutes(server.docs),
    ...appRoutes(server),
  ];
}

/** Groups presence entries into members (one per user). */
export function groupMembers(entries: readonly PresenceEntry[]) {
  const byUser = new Map<string, { user: string; info?: unknown; entries: Omit<PresenceEntry, 'user' | 'info'>[] }>();
  for (const e of entries) {
    let m = byUser.get(e.user);
    if (!m) {
      m = e.info === undefined ? { user: e.user, entries: [] } : { user: e.user, info: e.info, entries: [] };
      byUser.set(e.user, m);
    }
    m.entries.push({ clientId: e.clientId, state: e.state, enteredAt: e.enteredAt, updatedAt: e.updatedAt });
  }
  return [...byUser.values()];
}

/**
 * Registers the HTTP API (`/v1/...`, API key in `Authorization: Bearer`) and
 * its OpenAPI document at `/v1/openapi.json` on the server's router.
 */
export function registerHttpApi(server: ApiServices, options: HttpApiOptions): void {
  const routes = apiRoutes(server);
  for (const route of routes) {
    server.router.add(route.method, route.path, async (req, res, params) => {
      requireApiKey(req, server.core.apiKey);
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
