import type { Logger } from 'pino';
import type { Broker, PublishOutcome } from '../broker/broker.js';
import type { ServerHooks } from '../hooks.js';
import { checkData } from '../namespaces/check-data.js';
import type { NamespaceRegistry } from '../namespaces/namespaces.js';

/** What publishing needs from the node (a `ServerCore` is one). */
export interface PublishHost {
  readonly broker: Pick<Broker, 'publish'>;
  readonly namespaces: NamespaceRegistry;
  readonly hooks: ServerHooks;
  readonly logger: Logger;
}

/** Who publishes: the server itself (HTTP API, `server.publish`) or a connected user. */
export type Publisher = { readonly kind: 'server' } | { readonly kind: 'user'; readonly user: string };

/** A publication to make, after the caller has checked it may be made. */
export interface PublishRequest {
  readonly channel: string;
  readonly data: unknown;
  readonly publisher: Publisher;
  /** Idempotency key as the publisher gave it; scoped to the publisher here. */
  readonly key?: string | undefined;
  /** True when the caller already checked `data` against the namespace's schema. */
  readonly checked?: boolean;
}

/**
 * The broker key of an idempotency key, scoped to its publisher: `s:<key>`
 * for the server, `u:<user>:<key>` for a user. These prefixes are part of the
 * idempotency contract (a key used by one publisher never matches another's)
 * and of the stored data, so they never change.
 */
export function scopedPublishKey(publisher: Publisher, key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  return publisher.kind === 'server' ? `s:${key}` : `u:${publisher.user}:${key}`;
}

/**
 * Publishes once, for every caller (the WebSocket `publish` command, the HTTP
 * API and `server.publish`): resolves the channel's namespace (throwing
 * `bad_channel` for a malformed name, as `NamespaceRegistry.forChannel`
 * does), checks the data against the namespace's schema (`invalid_data`),
 * hands the publication to the broker with the publisher-scoped key,
 * and runs the `afterPublish` hook once when something new was published
 * (not for a duplicate key). What the hook throws is logged and ignored.
 * Resolves with the broker's outcome; rejects as the broker does.
 *
 * Checks of whether the publisher may publish (capabilities, rate limits,
 * `onPublish`) are the caller's, before calling this.
 */
export async function publishToChannel(host: PublishHost, request: PublishRequest): Promise<PublishOutcome> {
  const { channel, data, publisher } = request;
  const ns = host.namespaces.forChannel(channel);
  if (request.checked !== true) await checkData(ns.data, data, 'publication data');
  const user = publisher.kind === 'user' ? publisher.user : undefined;
  const outcome = await host.broker.publish({
    channel,
    data,
    user,
    key: scopedPublishKey(publisher, request.key),
    history: ns.history,
  });
  if (!outcome.duplicate) {
    try {
      host.hooks.afterPublish?.({ user, channel, data, offset: outcome.offset });
    } catch (err) {
      host.logger.warn({ err }, 'afterPublish hook failed');
    }
  }
  return outcome;
}
