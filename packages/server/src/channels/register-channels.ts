import { type ErrorCode, toSynclineError } from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import { connectionInfo } from '../session/connect-commands.js';
import type { Session } from '../session/session.js';
import { type ChannelContext, type ChannelPolicy, registerChannelCommands } from './channel-commands.js';
import { ChannelHub } from './channel-hub.js';
import { registerChannelMetrics } from './channel-metrics.js';
import { SESSION_CHANNELS_SLOT } from './session-channels.js';

/** Channels on this node, server side (diagnostics and tests). */
export interface ChannelsService {
  /** Local subscriber count per channel on this node (channels without one are absent). */
  localCounts(): Map<string, number>;
  /** Number of channels a session is subscribed to (pending subscribes included). */
  subscriptionCount(session: Session): number;
}

/** Observes channels getting their first local subscriber (`true`) and losing their last (`false`). */
export interface ChannelOccupancy {
  /** Adds a listener; returns its removal. */
  onOccupancy(listener: (channel: string, occupied: boolean) => void): () => void;
}

/** What the server entry keeps of the channels feature. */
export interface ChannelsFeature extends ChannelContext, ChannelsService, ChannelOccupancy {}

/**
 * The channels feature as one slice: the node's channel hub, the commands
 * (`subscribe`, `unsubscribe`, `publish`, `history`), the session state (a
 * typed slot of subscriptions), what happens when a session closes or
 * refreshes its token, and the channel metrics.
 */
export function registerChannels(core: ServerCore, policy?: ChannelPolicy): ChannelsFeature {
  const hub = new ChannelHub(
    core.broker,
    (err, channel) => core.logger.error({ err, channel }, 'channel delivery failed'),
    core.metrics.deliverySampler,
  );
  const feature: ChannelsFeature = {
    hub,
    policy,
    unsubscribe(session: Session, channel: string, code: ErrorCode, message: string) {
      const subscriptions = session.peek(SESSION_CHANNELS_SLOT);
      const sink = subscriptions?.get(channel);
      if (!sink) return;
      subscriptions?.delete(channel);
      hub.remove(channel, sink);
      session.send({ type: 'unsubscribed', channel, code, message });
    },
    localCounts: () => hub.counts(),
    onOccupancy(listener) {
      hub.occupancy.add(listener);
      return () => hub.occupancy.delete(listener);
    },
    subscriptionCount: (session) => session.peek(SESSION_CHANNELS_SLOT)?.size ?? 0,
  };
  registerChannelCommands(core, feature);

  core.sessionEvents.closed.add((session) => {
    const subscriptions = session.peek(SESSION_CHANNELS_SLOT);
    if (!subscriptions) return;
    for (const [channel, sink] of subscriptions) hub.remove(channel, sink);
    session.clearSlot(SESSION_CHANNELS_SLOT);
  });
  // A refreshed token that no longer allows a channel ends its subscription; the reply lists them.
  core.sessionEvents.refreshed.add((session) => {
    const ended: string[] = [];
    for (const channel of [...(session.peek(SESSION_CHANNELS_SLOT)?.keys() ?? [])]) {
      if (session.principal?.can.allows('subscribe', channel)) continue;
      ended.push(channel);
      feature.unsubscribe(session, channel, 'forbidden', 'The refreshed token no longer allows this channel.');
    }
    if (policy?.subscribe && policy.rechecks) recheck(session);
    return ended;
  });

  /** Asks the policy again about the session's channels it rechecks; a refusal ends the subscription. */
  const recheck = (session: Session): void => {
    const info = connectionInfo(session);
    for (const channel of [...(session.peek(SESSION_CHANNELS_SLOT)?.keys() ?? [])]) {
      if (!policy?.rechecks?.(channel)) continue;
      policy.subscribe?.(info, channel).catch((err: unknown) => {
        const e = toSynclineError(err);
        // A backend that did not answer keeps the subscription: only a refusal ends it.
        if (e.code === 'unavailable' || e.code === 'timeout' || session.closed) return;
        feature.unsubscribe(session, channel, 'forbidden', e.message);
      });
    }
  };

  registerChannelMetrics(core.metrics.registry, {
    subscriptions: () => {
      let n = 0;
      for (const s of core.sessions) n += s.peek(SESSION_CHANNELS_SLOT)?.size ?? 0;
      return n;
    },
    channels: () => hub.channelCount,
    publicationsOut: () => hub.publicationsOut,
    deliveries: () => hub.deliveries,
  });
  return feature;
}
