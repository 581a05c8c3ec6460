import { CLOSE_CODES, type PresenceEnterResult, SynclineError } from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import { checkData } from '../namespaces/check-data.js';
import type { ResolvedNamespace } from '../namespaces/namespaces.js';
import { forbidden, type Session } from '../session/session.js';
import { LocalPresenceFanout, MemoryPresenceStore } from './memory-presence-store.js';
import { presenceLimitExceeded } from './presence-limits.js';
import { type PresenceEntryLimits, PresenceManager } from './presence-manager.js';
import type { PresenceChange, PresenceFanout, PresenceSnapshot, PresenceStore } from './presence-store.js';
import { existingSessionPresence, sessionPresence } from './session-presence.js';

/** Presence options of the server. */
export interface PresenceOptions {
  /** Grace period before an abruptly disconnected connection leaves (default 5 s). */
  readonly graceMs?: number;
  /** Coalescing window of state updates per entry, latest wins (default 100 ms). */
  readonly updateIntervalMs?: number;
  /** Largest presence state, bytes of JSON (default 2048). */
  readonly maxStateBytes?: number;
  /** Where entries live (default in memory). */
  readonly store?: PresenceStore;
  /** How changes reach other nodes (default in process). */
  readonly fanout?: PresenceFanout;
  /** Interval of this node's presence heartbeat (default 10 s). */
  readonly nodeHeartbeatMs?: number;
  /** A node silent this long loses its entries (default 30 s). */
  readonly nodeTtlMs?: number;
}

/** Default presence grace period. */
export const DEFAULT_PRESENCE_GRACE_MS = 5_000;
/** Default coalescing window of presence updates. */
export const DEFAULT_PRESENCE_UPDATE_INTERVAL_MS = 100;
/** Default largest presence state. */
export const DEFAULT_PRESENCE_MAX_STATE_BYTES = 2048;

/** What the rest of the server (HTTP API, embedding app) uses of presence. */
export interface PresenceService {
  /** The presence set of a channel; throws `bad_channel`, `unknown_namespace` or `presence_disabled`. */
  list(channel: string): Promise<PresenceSnapshot>;
  /** Channels with presence entries, with their entry counts. */
  channels(): Promise<ReadonlyMap<string, number>>;
  /**
   * Observes the presence changes this node makes (joins, state updates,
   * leaves, and the leaves of dead nodes' entries it expires); returns the
   * removal. Each change is reported by one node only.
   */
  onChange(listener: (change: PresenceChange) => void): () => void;
  /** Stops timers and releases the store. */
  close(): Promise<void>;
}

/** Close codes after which entries leave at once instead of after the grace period. */
const IMMEDIATE_LEAVE_CODES = new Set<number>([CLOSE_CODES.NORMAL.code, CLOSE_CODES.REVOKED.code]);

function presenceNamespace(core: ServerCore, channel: string): ResolvedNamespace {
  const ns = core.namespaces.forChannel(channel);
  if (!ns.presence) {
    throw new SynclineError('presence_disabled', `Presence is not enabled in namespace "${ns.name}".`);
  }
  return ns;
}

function checkState(state: unknown, maxBytes: number): unknown {
  const value = state === undefined ? null : state;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) {
    throw presenceLimitExceeded('maxStateBytes', maxBytes, `Presence state of ${bytes} bytes exceeds ${maxBytes}.`);
  }
  return value;
}

function canWatch(session: Session, channel: string): boolean {
  const can = session.principal?.can;
  return can !== undefined && (can.allows('subscribe', channel) || can.allows('presence', channel));
}

/**
 * Registers the presence commands (`presence.enter`, `.update`, `.leave`,
 * `.subscribe`, `.unsubscribe`) and the session lifecycle listeners (grace
 * period on abrupt disconnects, narrowing on token refresh).
 */
export function registerPresence(core: ServerCore, options: PresenceOptions = {}): PresenceService {
  const maxStateBytes = options.maxStateBytes ?? DEFAULT_PRESENCE_MAX_STATE_BYTES;
  const nodeTtlMs = options.nodeTtlMs ?? 30_000;
  const manager = new PresenceManager(
    options.store ?? new MemoryPresenceStore(),
    options.fanout ?? new LocalPresenceFanout(),
    {
      graceMs: options.graceMs ?? DEFAULT_PRESENCE_GRACE_MS,
      updateIntervalMs: options.updateIntervalMs ?? DEFAULT_PRESENCE_UPDATE_INTERVAL_MS,
    },
    core.nodeId,
    core.logger,
  );

  const entryLimits = (ns: ResolvedNamespace): PresenceEntryLimits => ({
    maxChannels: core.limits.maxChannelsPerConnection,
    maxPerUser: core.limits.presenceEntriesPerUser,
    maxEntries: ns.presenceMaxMembers,
  });

  core.command('presence.enter', async (session, cmd) => {
    const ns = presenceNamespace(core, cmd.channel);
    if (!session.principal?.can.allows('presence', cmd.channel)) throw forbidden('enter the presence of', cmd.channel);
    const state = checkState(cmd.state, maxStateBytes);
    await checkData(ns.presenceState, state, 'presence state');
    const seq = await manager.enter(session, cmd.channel, cmd.clientId, state, entryLimits(ns));
    const result: PresenceEnterResult = { seq };
    return result;
  });

  core.command('presence.update', async (session, cmd) => {
    const ns = presenceNamespace(core, cmd.channel);
    if (!session.principal?.can.allows('presence', cmd.channel)) throw forbidden('update the presence of', cmd.channel);
    const state = checkState(cmd.state, maxStateBytes);
    await checkData(ns.presenceState, state, 'presence state');
    if (!manager.owns(session, cmd.channel, cmd.clientId)) {
      await manager.enter(session, cmd.channel, cmd.clientId, state, entryLimits(ns));
      return {};
    }
    manager.update(session, cmd.channel, cmd.clientId, state);
    return {};
  });

  core.command('presence.leave', async (session, cmd) => {
    core.namespaces.forChannel(cmd.channel);
    await manager.leave(session, cmd.channel, cmd.clientId);
    return {};
  });

  core.command('presence.subscribe', async (session, cmd) => {
    presenceNamespace(core, cmd.channel);
    if (!canWatch(session, cmd.channel)) throw forbidden('watch the presence of', cmd.channel);
    const sp = sessionPresence(session);
    if (sp.watching.has(cmd.channel)) {
      throw new SynclineError('already_subscribed', `Already watching the presence of "${cmd.channel}".`);
    }
    if (sp.watching.size >= core.limits.maxChannelsPerConnection) {
      throw new SynclineError(
        'limit_exceeded',
        `A connection may watch the presence of at most ${core.limits.maxChannelsPerConnection} channels.`,
        { details: { limit: 'maxChannelsPerConnection', value: core.limits.maxChannelsPerConnection } },
      );
    }
    await manager.watch(session, cmd.channel);
    return {};
  });

  core.command('presence.unsubscribe', (session, cmd) => {
    const sp = sessionPresence(session);
    if (!sp.watching.has(cmd.channel)) {
      throw new SynclineError('not_subscribed', `Not watching the presence of "${cmd.channel}".`);
    }
    manager.unwatch(session, cmd.channel);
    return {};
  });

  core.sessionEvents.closed.add((session, code) => {
    manager.sessionClosed(session, IMMEDIATE_LEAVE_CODES.has(code));
  });

  core.sessionEvents.refreshed.add((session) => {
    const sp = existingSessionPresence(session);
    if (!sp) return;
    const can = session.principal?.can;
    for (const [channel, clientId] of [...sp.entries]) {
      if (can?.allows('presence', channel)) continue;
      manager.leave(session, channel, clientId).catch((err: unknown) => core.logger.warn({ err }, 'presence leave'));
      session.send({
        type: 'presence.ended',
        channel,
        what: 'entry',
        code: 'forbidden',
        message: 'The refreshed token no longer allows presence in this channel.',
      });
    }
    for (const channel of [...sp.watching]) {
      if (canWatch(session, channel)) continue;
      manager.unwatch(session, channel);
      session.send({
        type: 'presence.ended',
        channel,
        what: 'subscription',
        code: 'forbidden',
        message: 'The refreshed token no longer allows watching this channel.',
      });
    }
  });

  const heartbeatMs = options.nodeHeartbeatMs ?? 10_000;
  const tick = (): void => {
    manager.tick(Date.now(), nodeTtlMs).catch((err: unknown) => core.logger.warn({ err }, 'presence heartbeat failed'));
  };
  tick();
  const timer = setInterval(tick, heartbeatMs);
  timer.unref();

  return {
    async list(channel) {
      presenceNamespace(core, channel);
      return manager.store.list(channel);
    },
    channels() {
      return manager.store.channels();
    },
    onChange(listener) {
      manager.changes.add(listener);
      return () => manager.changes.delete(listener);
    },
    async close() {
      clearInterval(timer);
      await manager.close();
    },
  };
}
