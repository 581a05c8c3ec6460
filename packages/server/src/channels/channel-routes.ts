import { SynclineError } from '@syncline/protocol';
import type * as v from 'valibot';
import { CHANNEL_ERRORS } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import { BatchPublishBody, BatchPublishResponse, PublishBody, PublishResponse } from '../http/api-schemas.js';
import { type ChannelRouteServices, channelReadRoutes } from './channel-read-routes.js';

export type { ChannelRouteServices } from './channel-read-routes.js';

async function publishOne(services: ChannelRouteServices, p: v.InferOutput<typeof PublishBody>) {
  const outcome = await services.publish(p.channel, p.data, p.key === undefined ? {} : { key: p.key });
  return { channel: p.channel, offset: outcome.offset, epoch: outcome.epoch, duplicate: outcome.duplicate };
}

/** The HTTP API routes of channels: publish (one or a batch), the channel list, a channel's detail, history. */
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
    ...channelReadRoutes(services),
  ];
}
