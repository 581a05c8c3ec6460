import {
  type ErrorCode,
  type HistoryResult,
  type Publication,
  type PublishResult,
  type SubscribeResult,
  SynclineError,
} from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import type { ConnectionInfo } from '../hooks.js';
import { checkData } from '../namespaces/check-data.js';
import type { ResolvedNamespace } from '../namespaces/namespaces.js';
import { connectionInfo } from '../session/connect-commands.js';
import { takeToken } from '../session/rate-bucket.js';
import { forbidden, REPLIED, type Session } from '../session/session.js';
import type { SubscriptionSink } from './subscription-sink.js';

/**
 * A decision from outside the node on subscribes and publishes (the app's
 * backend through the proxy). Asked after the token's capabilities and the
 * limits; what it throws is the client's error.
 */
export interface ChannelPolicy {
  /** Asked before a subscribe; throw to refuse it. */
  subscribe?(info: ConnectionInfo, channel: string): Promise<void>;
  /** Asked before a publish; may return data that replaces the client's; throw to refuse it. */
  publish?(info: ConnectionInfo, channel: string, data: unknown): Promise<{ readonly data: unknown } | undefined>;
  /** Whether subscriptions of `channel` are asked again after a token refresh (`subscribe` applies to it). */
  rechecks?(channel: string): boolean;
}

/** What the channel commands work with besides the core: the node's hub and the server-side unsubscribe. */
export interface ChannelContext {
  readonly hub: ChannelHub;
  /** Decisions from outside the node, if any. */
  readonly policy?: ChannelPolicy | undefined;
  /** Ends one subscription from the server side, telling the client why. */
  unsubscribe(session: Session, channel: string, code: ErrorCode, message: string): void;
}

import type { ChannelHub } from './channel-hub.js';
import { publishToChannel } from './publish-service.js';
import { SESSION_CHANNELS_SLOT } from './session-channels.js';

/** Most publications a recovering subscribe may return. */
export const MAX_RECOVERY_PUBLICATIONS = 10_000;

async function runHook(fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SynclineError) throw err;
    throw new SynclineError('forbidden', err instanceof Error ? err.message : String(err));
  }
}

/**
 * Whether a recovery whose first missed publication was published at
 * `firstTs` may be replayed: always with the `history` capability; without
 * it only when that publication is inside the namespace's `recoverWindowMs`,
 * so a subscriber cannot read back further than it could have been
 * subscribed (a `since` of offset 0 is not a way around `history`).
 */
function withinRecoverWindow(
  session: Session,
  channel: string,
  ns: ResolvedNamespace,
  firstTs: number | undefined,
): boolean {
  if (firstTs === undefined) return true;
  if (Date.now() - firstTs <= ns.recoverWindowMs) return true;
  return session.principal?.can.allows('history', channel) === true;
}

/**
 * Subscribes a session to a channel with optional recovery; sends the reply
 * itself so that live publications follow it in order.
 */
export async function subscribeSession(
  core: ServerCore,
  channels: ChannelContext,
  session: Session,
  id: number,
  channel: string,
  ns: ResolvedNamespace,
  since: { epoch: string; offset: number } | undefined,
): Promise<typeof REPLIED> {
  const sink: SubscriptionSink = {
    status: 'pending',
    lastOffset: 0,
    buffer: [],
    push: (frame) => session.sendShared(frame),
    reset: () =>
      channels.unsubscribe(session, channel, 'stream_reset', `The history of "${channel}" was reset; resubscribe.`),
  };
  const subscriptions = session.slot(SESSION_CHANNELS_SLOT);
  subscriptions.set(channel, sink);
  try {
    await channels.hub.add(channel, sink, ns.history);
    let result: SubscribeResult;
    if (since !== undefined && ns.recover && ns.history.size > 0) {
      const limit = Math.min(MAX_RECOVERY_PUBLICATIONS, ns.history.size);
      const read = await core.broker.history(channel, { since: since.offset, limit, history: ns.history });
      const pubs = read.publications;
      const complete =
        read.epoch === since.epoch &&
        since.offset <= read.offset &&
        (since.offset === read.offset ||
          (pubs.length > 0 && pubs[0]?.offset === since.offset + 1 && pubs[pubs.length - 1]?.offset === read.offset)) &&
        withinRecoverWindow(session, channel, ns, pubs[0]?.ts);
      sink.lastOffset = read.offset;
      sink.epoch = read.epoch;
      result = complete
        ? { epoch: read.epoch, offset: read.offset, recovered: true, publications: pubs }
        : { epoch: read.epoch, offset: read.offset, recovered: false, publications: [] };
    } else {
      const top = await core.broker.top(channel);
      sink.lastOffset = top.offset;
      sink.epoch = top.epoch;
      result =
        since === undefined
          ? { epoch: top.epoch, offset: top.offset }
          : { epoch: top.epoch, offset: top.offset, recovered: false, publications: [] };
    }
    if (subscriptions.get(channel) !== sink || session.closed) {
      channels.hub.remove(channel, sink);
      throw new SynclineError('not_subscribed', 'The subscription was cancelled while it was being set up.');
    }
    session.reply(id, result);
    channels.hub.activate(sink);
    return REPLIED;
  } catch (err) {
    if (subscriptions.get(channel) === sink) subscriptions.delete(channel);
    channels.hub.remove(channel, sink);
    throw err instanceof SynclineError
      ? err
      : new SynclineError('unavailable', 'Could not subscribe right now.', { cause: err });
  }
}

/** Registers `subscribe`, `unsubscribe`, `publish` and `history`. */
export function registerChannelCommands(core: ServerCore, channels: ChannelContext): void {
  core.command('subscribe', async (session, cmd) => {
    const ns = core.namespaces.forChannel(cmd.channel);
    if (!session.principal?.can.allows('subscribe', cmd.channel)) throw forbidden('subscribe to', cmd.channel);
    const subscriptions = session.peek(SESSION_CHANNELS_SLOT);
    if (subscriptions?.has(cmd.channel)) {
      throw new SynclineError('already_subscribed', `Already subscribed to "${cmd.channel}".`);
    }
    if ((subscriptions?.size ?? 0) >= core.limits.maxChannelsPerConnection) {
      throw new SynclineError(
        'limit_exceeded',
        `A connection may subscribe to at most ${core.limits.maxChannelsPerConnection} channels.`,
        { details: { limit: 'maxChannelsPerConnection', value: core.limits.maxChannelsPerConnection } },
      );
    }
    const hook = core.hooks.onSubscribe;
    if (hook) await runHook(() => hook({ ...connectionInfo(session), channel: cmd.channel }));
    await channels.policy?.subscribe?.(connectionInfo(session), cmd.channel);
    if (session.closed) throw new SynclineError('not_subscribed', 'The connection closed during the subscribe.');
    return subscribeSession(core, channels, session, cmd.id, cmd.channel, ns, cmd.since);
  });

  core.command('unsubscribe', (session, cmd) => {
    const subscriptions = session.peek(SESSION_CHANNELS_SLOT);
    const sink = subscriptions?.get(cmd.channel);
    if (!sink) throw new SynclineError('not_subscribed', `Not subscribed to "${cmd.channel}".`);
    subscriptions?.delete(cmd.channel);
    channels.hub.remove(cmd.channel, sink);
    return {};
  });

  core.command('publish', async (session, cmd) => {
    core.assertClientCurrent(session);
    const ns = core.namespaces.forChannel(cmd.channel);
    if (ns.allowPublish === 'none') {
      throw new SynclineError('publish_disabled', `Clients may not publish in namespace "${ns.name}".`);
    }
    if (!session.principal?.can.allows('publish', cmd.channel)) throw forbidden('publish to', cmd.channel);
    if (ns.allowPublish === 'subscribers' && !session.peek(SESSION_CHANNELS_SLOT)?.has(cmd.channel)) {
      throw new SynclineError('forbidden', `Subscribe to "${cmd.channel}" before publishing to it.`);
    }
    const { publishRatePerSec: ratePerSec, publishBurst: burst } = core.limits;
    takeToken(session, { key: 'publishBucket', ratePerSec, burst, what: 'Publish' });
    // The backend may refuse or replace the data; the schema then checks what will be stored.
    // (Nothing is awaited when there is nothing to wait for: this runs once per publication.)
    const policy = channels.policy;
    const replaced =
      policy?.publish === undefined ? undefined : await policy.publish(connectionInfo(session), cmd.channel, cmd.data);
    const data = replaced === undefined ? cmd.data : replaced.data;
    // Checked before the hook, so `onPublish` only ever sees data of the namespace's shape.
    if (ns.data !== undefined) await checkData(ns.data, data, 'publication data');
    const hook = core.hooks.onPublish;
    if (hook) await runHook(() => hook({ ...connectionInfo(session), channel: cmd.channel, data }));
    const outcome = await publishToChannel(core, {
      channel: cmd.channel,
      data,
      publisher: { kind: 'user', user: session.user },
      key: cmd.key,
      checked: true,
    });
    const result: PublishResult = outcome.duplicate
      ? { offset: outcome.offset, epoch: outcome.epoch, duplicate: true }
      : { offset: outcome.offset, epoch: outcome.epoch };
    return result;
  });

  core.command('history', async (session, cmd) => {
    const ns = core.namespaces.forChannel(cmd.channel);
    if (!session.principal?.can.allows('history', cmd.channel)) throw forbidden('read the history of', cmd.channel);
    const read = await core.broker.history(cmd.channel, {
      since: cmd.since ?? 0,
      limit: cmd.limit ?? 100,
      history: ns.history,
    });
    const result: HistoryResult = {
      epoch: read.epoch,
      offset: read.offset,
      minOffset: read.minOffset,
      publications: read.publications as Publication[],
    };
    return result;
  });
}
