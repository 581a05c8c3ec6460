import { SynclineError } from '@syncline/protocol';
import type * as v from 'valibot';
import type { ServerCore } from '../core.js';
import { CHANNEL_ERRORS, channelParam } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import {
  ApiChannel,
  BatchPublishBody,
  BatchPublishResponse,
  ChannelsQuery,
  ChannelsResponse,
  HistoryQuery,
  HistoryResponse,
  PublishBody,
  PublishResponse,
} from '../http/api-schemas.js';

/** What the channel routes use of the server. */
export interface ChannelRouteServices {
  readonly core: Pick<ServerCore, 'broker' | 'namespaces' | 'subscriberCounts'>;
  /** Channels with presence entries, with their entry counts (for the channel list). */
  presenceChannels(): Promise<ReadonlyMap<string, number>>;
  /** Publishes from the server (no publisher user); idempotent with `key`. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
}

async function publishOne(services: ChannelRouteServices, p: v.InferOutput<typeof PublishBody>) {
  const outcome = await services.publish(p.channel, p.data, p.key === undefined ? {} : { key: p.key });
  return { channel: p.channel, offset: outcome.offset, epoch: outcome.epoch, duplicate: outcome.duplicate };
}

/** The HTTP API routes of channels: publish (one or a batch), the channel list, history. */
export function channelRoutes(services: ChannelRouteServices): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/publish',
      operationId: 'publish',
      summary: 'Publish to a channel (idempotent with `key`).',
      body: PublishBody,
      response: PublishResponse,
      errors: [...CHANNEL_ERRORS, 'invalid_data', 'frame_too_large', 'unavailable'],
      handle: async ({ body }) => {
        const p = body as v.InferOutput<typeof PublishBody>;
        services.core.namespaces.forChannel(p.channel);
        return publishOne(services, p);
      },
    },
    {
      method: 'POST',
      path: '/v1/publish/batch',
      operationId: 'publishBatch',
      summary: 'Publish several publications; all are validated before any is published.',
      body: BatchPublishBody,
      response: BatchPublishResponse,
      errors: [...CHANNEL_ERRORS, 'invalid_data', 'frame_too_large', 'unavailable'],
      handle: async ({ body }) => {
        const { publications } = body as v.InferOutput<typeof BatchPublishBody>;
        publications.forEach((p, i) => {
          try {
            services.core.namespaces.forChannel(p.channel);
          } catch (err) {
            if (err instanceof SynclineError) {
              throw new SynclineError(err.code, `publications.${i}: ${err.message}`, {
                details: { path: `publications.${i}.channel` },
              });
            }
            throw err;
          }
        });
        const results = await Promise.all(publications.map((p) => publishOne(services, p)));
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
        const subs = await services.core.subscriberCounts();
        const present = await services.presenceChannels();
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
        const channel = channelParam(services.core.namespaces, params);
        const ns = services.core.namespaces.forChannel(channel);
        const q = query as v.InferOutput<typeof HistoryQuery>;
        const since = q.since === undefined ? 0 : Number(q.since);
        const limit = q.limit === undefined ? 100 : Number(q.limit);
        if (limit < 1 || limit > 1000) {
          throw new SynclineError('invalid_request', 'Invalid query at "limit": expected 1 to 1000.', {
            details: { path: 'limit', in: 'query' },
          });
        }
        const read = await services.core.broker.history(channel, { since, limit, history: ns.history });
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
  ];
}
