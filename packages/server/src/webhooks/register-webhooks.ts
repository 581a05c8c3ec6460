import { randomBytes } from 'node:crypto';
import type { ChannelOccupancy } from '../channels/register-channels.js';
import type { ServerCore } from '../core.js';
import type { CommitListener } from '../docs/doc-store.js';
import type { PresenceChange } from '../presence/presence-store.js';
import type { SqlTransaction } from '../storage/sql-transaction.js';
import type { AppendListener } from '../storage/sqlite-history.js';
import { type PublicationFeed, publicationEventId } from './publication-feed.js';
import { SqliteWebhookOutbox } from './sqlite-webhook-outbox.js';
import { WebhookDeliverer } from './webhook-deliverer.js';
import { registerWebhookMetrics } from './webhook-metrics.js';
import {
  resolveWebhookDelivery,
  resolveWebhookEndpoints,
  type WebhookDeliveryOptions,
  type WebhookEndpointOptions,
  type WebhookEventType,
} from './webhook-options.js';
import type {
  OutboxEntry,
  OutboxStats,
  WebhookEvent,
  WebhookOutbox,
  WebhookOutboxFactory,
  WebhookOutboxSettings,
} from './webhook-outbox.js';
import type { WebhookDeliveryService } from './webhook-routes.js';

/** Where the webhook events come from: narrow seams of the other features and of history. */
export interface WebhookSources {
  /** Publications, inside the history append's transaction (absent: no `publication` events). */
  readonly publications: { onAppend(listener: AppendListener): () => void } | undefined;
  /** A cluster-wide feed of publications (Redis broker); used instead of `publications` when present. */
  readonly publicationFeed?: PublicationFeed | undefined;
  readonly channels: ChannelOccupancy;
  readonly presence: { onChange(listener: (change: PresenceChange) => void): () => void };
  /** Document commits, inside the commit's transaction (absent: no `doc.committed` events); `shared`: a cluster's store. */
  readonly docs: { readonly shared?: boolean; onCommit?(listener: CommitListener): () => void };
}

/** Options of `registerWebhooks`. */
export interface RegisterWebhooksOptions {
  readonly endpoints: readonly WebhookEndpointOptions[];
  readonly delivery?: WebhookDeliveryOptions;
  readonly sources: WebhookSources;
  /** Opens the node's outbox (default: a table of the node's SQLite database). */
  readonly outbox?: WebhookOutboxFactory | undefined;
}

/** How much longer than a request's `timeoutMs` a node's claim on a stream lasts: the takeover delay after a node dies. */
export const WEBHOOK_CLAIM_MARGIN_MS = 5_000;

/** What the server entry keeps of the webhooks feature. */
export interface WebhooksFeature extends WebhookDeliveryService {
  /** Starts delivering (once the node listens). */
  start(): void;
  /** Stops delivering and detaches from the sources; pending events stay in the outbox. */
  close(): Promise<void>;
  /** Receivers configured, and the outbox's counts (one store read). */
  summary(): Promise<OutboxStats & { readonly receivers: number }>;
}

/** Namespace of a channel or document name (`namespace:rest`). */
function namespaceOf(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? '' : name.slice(0, i);
}

function newEventId(): string {
  return `evt_${randomBytes(12).toString('base64url')}`;
}

/**
 * The webhooks feature: turns channel occupancy, presence, publications,
 * document commits and connections into events, writes them to the durable
 * outbox (in the transaction of their cause when there is one), delivers
 * them, and registers its metrics. Its HTTP routes (`webhookRoutes`) take the
 * returned service.
 */
export function registerWebhooks(core: ServerCore, options: RegisterWebhooksOptions): WebhooksFeature {
  const endpoints = resolveWebhookEndpoints(options.endpoints);
  const delivery = resolveWebhookDelivery(options.delivery);
  const settings: WebhookOutboxSettings = {
    maxEvents: delivery.maxOutboxEvents,
    urls: new Map(endpoints.map((e) => [e.index, e.url])),
    nodeId: core.nodeId,
    leaseMs: delivery.timeoutMs + WEBHOOK_CLAIM_MARGIN_MS,
  };
  const outbox: WebhookOutbox = options.outbox?.(settings) ?? new SqliteWebhookOutbox(core.db, settings);
  const deliverer = new WebhookDeliverer(outbox, endpoints, delivery, core.logger);
  let dropped = 0;
  let lastDropWarn = 0;
  const { sources } = options;

  const receivers = (type: WebhookEventType, namespace: string | undefined): number[] => {
    const out: number[] = [];
    for (const e of endpoints) {
      if (!e.events.has(type)) continue;
      if (namespace !== undefined && e.namespaces !== undefined && !e.namespaces.has(namespace)) continue;
      out.push(e.index);
    }
    return out;
  };

  const entry = (
    type: WebhookEventType,
    stream: string,
    namespace: string | undefined,
    data: Record<string, unknown>,
    now: number,
    id?: string,
  ): OutboxEntry | undefined => {
    const to = receivers(type, namespace);
    if (to.length === 0) return undefined;
    // The id is drawn only for an event some receiver gets (random bytes cost a system call).
    const event: WebhookEvent = { id: id ?? newEventId(), type, time: new Date(now).toISOString(), data };
    return { event, stream, endpoints: to };
  };

  const added = (n: number, now: number): void => {
    if (n > 0) {
      dropped += n;
      if (now - lastDropWarn >= 1_000) {
        lastDropWarn = now;
        core.logger.warn(
          { dropped, maxOutboxEvents: delivery.maxOutboxEvents },
          'webhook outbox full: new events dropped',
        );
      }
    }
    deliverer.wake();
  };

  /**
   * Adds entries; inside a caller's transaction when there is one (the
   * embedded one at once, a network one's `tx` by the promise; errors then
   * roll it back).
   */
  const add = (
    entries: readonly (OutboxEntry | undefined)[],
    now: number,
    tx?: SqlTransaction,
  ): undefined | Promise<void> => {
    const present = entries.filter((e): e is OutboxEntry => e !== undefined);
    if (present.length === 0) return;
    const n = outbox.add(present, now, tx);
    if (typeof n !== 'number') return n.then((d) => added(d, now));
    added(n, now);
    return undefined;
  };

  let failedWrites = 0;
  let lastWriteWarn = 0;
  /** A write outside any transaction failed (its events are lost): logged at most once a second, with the running count. */
  const warn = (err: unknown): void => {
    failedWrites++;
    const now = Date.now();
    if (now - lastWriteWarn < 1_000) return;
    lastWriteWarn = now;
    core.logger.warn({ err, failedWrites }, 'webhook outbox write failed; its events are lost');
  };
  /** Adds events known outside any transaction (occupancy, presence, connections) as soon as they are known. */
  const addNow = (entries: readonly (OutboxEntry | undefined)[]): void => {
    try {
      add(entries, Date.now())?.catch(warn);
    } catch (err) {
      warn(err);
    }
  };

  const detach: (() => void)[] = [];
  const wants = (type: WebhookEventType): boolean => endpoints.some((e) => e.events.has(type));

  const feed = sources.publicationFeed;
  if (wants('publication') && feed) {
    // Written in a transaction of their own, then the feed moves on: a crash in between hands them again, same ids.
    const namespaces = new Set(
      endpoints.flatMap((e) => (e.events.has('publication') ? [...(e.namespaces ?? [])] : [])),
    );
    feed.start(namespaces, async (batch) => {
      const entries = batch.map((p) =>
        entry(
          'publication',
          `c/${p.channel}`,
          namespaceOf(p.channel),
          { channel: p.channel, offset: p.offset, epoch: p.epoch, user: p.user ?? null, data: p.data ?? null },
          p.ts,
          publicationEventId(p.channel, p.epoch, p.offset),
        ),
      );
      // Any outbox: the embedded one writes in a transaction of its own, a network one when its promise resolves.
      await add(entries, Date.now());
    });
  } else if (wants('publication')) {
    if (sources.publications === undefined) {
      core.logger.warn('webhooks: `publication` events need the embedded history; none will be sent');
    } else {
      detach.push(
        sources.publications.onAppend((appended, now) => {
          add(
            appended.map((p) =>
              entry(
                'publication',
                `c/${p.channel}`,
                namespaceOf(p.channel),
                { channel: p.channel, offset: p.offset, epoch: p.epoch, user: p.user, data: p.data },
                p.ts,
                // The same id if the publication is handed again (read back from the log after a crash).
                publicationEventId(p.channel, p.epoch, p.offset),
              ),
            ),
            now,
          )?.catch(warn);
        }),
      );
    }
  }
  if (wants('doc.committed')) {
    // A cluster's store commits elsewhere than the node's SQLite: only an outbox on its database joins its transactions.
    if (sources.docs.onCommit === undefined || (sources.docs.shared === true && options.outbox === undefined)) {
      core.logger.warn(
        'webhooks: this document store reports no commits to this outbox (a cluster needs the PostgreSQL outbox); no `doc.committed` events will be sent',
      );
    } else {
      detach.push(
        sources.docs.onCommit((input, tx) => {
          const data: Record<string, unknown> = { doc: input.doc, version: input.version, user: input.userId ?? null };
          if (input.clientId !== undefined) data.clientId = input.clientId;
          const written = add(
            [entry('doc.committed', `d/${input.doc}`, namespaceOf(input.doc), data, input.ts)],
            input.ts,
            tx,
          );
          // In a network store's transaction the commit awaits the write; outside one nothing would.
          if (tx !== undefined) return written;
          written?.catch(warn);
          return undefined;
        }),
      );
    }
  }
  detach.push(
    sources.channels.onOccupancy((channel, occupied) => {
      const type = occupied ? 'channel.occupied' : 'channel.vacated';
      addNow([entry(type, `c/${channel}`, namespaceOf(channel), { channel }, Date.now())]);
    }),
  );
  detach.push(
    sources.presence.onChange((change) => {
      if (change.action === 'update') return;
      const type = change.action === 'join' ? 'presence.joined' : 'presence.left';
      const data = { channel: change.channel, user: change.entry.user, clientId: change.entry.clientId };
      addNow([entry(type, `c/${change.channel}`, namespaceOf(change.channel), data, Date.now())]);
    }),
  );
  // Sessions reported connected: only they are reported disconnected.
  const connected = new WeakSet<object>();
  const onConnected = (session: { id: string; user: string }): void => {
    connected.add(session);
    addNow([
      entry(
        'user.connected',
        `u/${session.user}`,
        undefined,
        { user: session.user, connectionId: session.id },
        Date.now(),
      ),
    ]);
  };
  const onClosed = (session: { id: string; user: string }, code: number, reason: string): void => {
    if (!connected.delete(session)) return;
    const data = { user: session.user, connectionId: session.id, code, reason };
    addNow([entry('user.disconnected', `u/${session.user}`, undefined, data, Date.now())]);
  };
  // Connections are followed only for receivers of their events.
  if (wants('user.connected') || wants('user.disconnected')) {
    core.sessionEvents.connected.add(onConnected);
    core.sessionEvents.closed.add(onClosed);
  }
  detach.push(() => {
    core.sessionEvents.connected.delete(onConnected);
    core.sessionEvents.closed.delete(onClosed);
  });

  registerWebhookMetrics(core.metrics.registry, {
    stats: () => outbox.stats(),
    counts: deliverer.counts,
    dropped: () => dropped + (feed?.lost ?? 0),
  });

  return {
    start: () => deliverer.start(),
    async close() {
      await feed?.close();
      for (const d of detach) d();
      await deliverer.stop();
      await outbox.close();
    },
    list: (status, after, limit) => outbox.list(status, after, limit),
    summary: async () => ({ ...(await outbox.stats()), receivers: endpoints.length }),
    async retry(id) {
      const d = await outbox.retry(id, Date.now());
      if (d) deliverer.wake();
      return d;
    },
  };
}
