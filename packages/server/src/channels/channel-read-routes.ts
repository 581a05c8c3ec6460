import { SynclineError } from '@syncline/protocol';
import type * as v from 'valibot';
import type { ServerCore } from '../core.js';
import { CHANNEL_ERRORS, channelParam, limitParam } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import {
  ApiChannel,
  ChannelDetailResponse,
  ChannelsQuery,
  ChannelsResponse,
  HistoryQuery,
  HistoryResponse,
} from '../http/api-schemas.js';
import { historyPage, namespaceInfo, pageChannels } from './channel-pages.js';

/** What the channel routes use of the server. */
export interface ChannelRouteServices {
  readonly core: Pick<ServerCore, 'broker' | 'namespaces' | 'subscriberCounts'>;
  /** Channels with presence entries, with their entry counts (for the channel list). */
  presenceChannels(): Promise<ReadonlyMap<string, number>>;
  /** How many webhook entries receive the publications of a namespace. */
  publicationWebhooks(namespace: string): number;
  /** Publishes from the server (no publisher user); idempotent with `key`. */
  publish(
    channel: string,
    data: unknown,
    options?: { key?: string },
  ): Promise<{ offset: number; epoch: string; duplicate: boolean }>;
}

/** Most channels on one page of `GET /v1/channels`. */
export const MAX_CHANNELS_PAGE = 10_000;
/** Most publications on one page of history. */
export const MAX_HISTORY_PAGE = 1_000;

/** The read side of channels in the HTTP API: the paged list, one channel's detail, history both ways. */
export function channelReadRoutes(services: ChannelRouteServices): ApiRoute[] {
  const { broker, namespaces } = services.core;
  return [
    {
      method: 'GET',
      path: '/v1/channels',
      operationId: 'listChannels',
      summary: 'Channels with subscribers or presence, with counts over every node; paged by name.',
      query: ChannelsQuery,
      response: ChannelsResponse,
      errors: ['invalid_request'],
      handle: async ({ query }) => {
        const q = query as v.InferOutput<typeof ChannelsQuery>;
        const limit = limitParam(q.limit, MAX_CHANNELS_PAGE, 1000);
        const [subscribers, present] = await Promise.all([
          services.core.subscriberCounts(),
          services.presenceChannels(),
        ]);
        return pageChannels(subscribers, present, { prefix: q.prefix, after: q.after, limit });
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:channel',
      operationId: 'getChannel',
      summary: "A channel's namespace options, stream position and counts over every node.",
      params: { channel: ApiChannel },
      response: ChannelDetailResponse,
      errors: [...CHANNEL_ERRORS, 'unavailable'],
      handle: async ({ params }) => {
        const channel = channelParam(namespaces, params);
        const ns = namespaces.forChannel(channel);
        const [position, subscribers, present] = await Promise.all([
          broker.historyBefore(channel, { before: Number.MAX_SAFE_INTEGER, limit: 0, history: ns.history }),
          services.core.subscriberCounts(),
          services.presenceChannels(),
        ]);
        return {
          channel,
          namespace: namespaceInfo(ns, services.publicationWebhooks(ns.name)),
          epoch: position.epoch,
          offset: position.offset,
          minOffset: position.minOffset,
          subscribers: subscribers.get(channel) ?? 0,
          present: present.get(channel) ?? 0,
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/channels/:channel/history',
      operationId: 'channelHistory',
      summary: 'Retained history of a channel, paged by offset forwards (`since`) or backwards (`before`).',
      params: { channel: ApiChannel },
      query: HistoryQuery,
      response: HistoryResponse,
      errors: [...CHANNEL_ERRORS, 'unavailable'],
      handle: async ({ params, query }) => {
        const channel = channelParam(namespaces, params);
        const ns = namespaces.forChannel(channel);
        const q = query as v.InferOutput<typeof HistoryQuery>;
        const limit = limitParam(q.limit, MAX_HISTORY_PAGE, 100);
        if (q.before !== undefined && q.since !== undefined) {
          throw new SynclineError('invalid_request', 'Give `since` or `before`, not both.', {
            details: { path: 'before', in: 'query' },
          });
        }
        const read =
          q.before === undefined
            ? await broker.history(channel, { since: Number(q.since ?? 0), limit, history: ns.history })
            : await broker.historyBefore(channel, { before: Number(q.before), limit, history: ns.history });
        return historyPage(channel, read);
      },
    },
  ];
}
