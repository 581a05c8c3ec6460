import type { Subscription, SynclineClient } from '@syncline/client';
import { errorGroup } from '@syncline/protocol';
import type { ChannelPosition, FinalChannelHistory, HistoryRecorder } from '@syncline/testing';
import { between, delay, errorCode, type Rng } from './chaos-util.js';
import { API_KEY, clusterClient } from './cluster.js';

/**
 * Subscribes `client` to `channel` and records what `subscriber` gets in
 * `rec`: every delivery, and every (re)subscribe with the position it asked
 * to recover from (the one held when the subscription went back to
 * subscribing).
 */
export function recordSubscription(
  rec: HistoryRecorder,
  client: SynclineClient,
  subscriber: string,
  channel: string,
): Subscription {
  let since: ChannelPosition | undefined;
  const sub: Subscription = client.subscribe(channel, {
    onPublication: (p) =>
      rec.delivered({ subscriber, channel, epoch: sub.position?.epoch ?? '', offset: p.offset, payload: p.data }),
  });
  sub.on('state', (e) => {
    if (e.state === 'subscribing') since = sub.position;
  });
  sub.on('subscribed', (e) =>
    rec.subscribed({ subscriber, channel, since, epoch: e.epoch, offset: e.offset, recovered: e.recovered }),
  );
  return sub;
}

/** Codes after which a publish may or may not have been applied. */
const UNKNOWN_OUTCOME_CODES = new Set(['timeout', 'request_timeout', 'connection_lost']);

/** How long one publish (one key) is retried before the publisher gives up on it. */
const PUBLISH_GIVE_UP_MS = 60_000;
/** Attempts of one key at most. */
const MAX_ATTEMPTS_PER_KEY = 200;
/** Keys one publisher sends at most (a bound on the loop, far above a run's need). */
const MAX_PUBLISHES = 100_000;
/** Request timeout of publishers: an unanswered publish becomes `request_timeout` (unknown) and is retried. */
const PUBLISHER_REQUEST_TIMEOUT_MS = 4_000;

/** A publish acknowledged by the server, with the run phase it was acknowledged in. */
export interface AckedPublish {
  readonly publisher: string;
  readonly channel: string;
  readonly key: string;
  readonly payload: { readonly from: string; readonly n: number };
  readonly epoch: string;
  readonly offset: number;
  readonly duplicate: boolean;
  readonly phase: string;
}

/** Options of {@link ChannelTraffic.start}. */
export interface ChannelTrafficOptions {
  /** URLs clients connect to (the proxies), rotated on every reconnect. */
  readonly urls: readonly string[];
  readonly channels: readonly string[];
  readonly subscribers: number;
  /** Channels each subscriber subscribes to (consecutive ones, starting at its index). */
  readonly channelsPerSubscriber: number;
  readonly publishers: number;
  /** Mean pause between two publishes of one publisher (jittered ±50%). */
  readonly publishPauseMs: number;
  readonly rng: Rng;
  readonly recorder: HistoryRecorder;
  /** Start of the subscriber and publisher names (default none), for several traffics on one recorder. */
  readonly label?: string;
}

interface SubscriberChannel {
  readonly name: string;
  readonly channel: string;
  readonly client: SynclineClient;
  readonly sub: Subscription;
}

/**
 * Channel traffic of a chaos run: subscribers that record every delivery and
 * every subscribe/resubscribe verdict, and publishers that publish unique
 * payloads under idempotency keys, retrying a key on retryable errors and
 * recording each attempt's outcome.
 */
export class ChannelTraffic {
  /** Every acknowledged attempt (retries of a key answered `duplicate` included). */
  readonly acks: AckedPublish[] = [];
  /** Failed or unknown attempts by code. */
  readonly failures = new Map<string, number>();
  /**
   * Keys answered `unavailable` ("nothing was stored") on every attempt
   * before one answered `duplicate: true`, each attempt sent once (no
   * reconnect while it was in flight): an `unavailable` attempt was applied.
   */
  readonly unavailableButApplied: string[] = [];
  /** Label stamped on acks (the test moves it through the run's phases). */
  phase = 'start';
  readonly #options: ChannelTrafficOptions;
  readonly #subs: SubscriberChannel[] = [];
  readonly #publishers: SynclineClient[] = [];
  readonly #loops: Promise<void>[] = [];
  /** Accepted connections per publisher client. */
  readonly #connects = new Map<SynclineClient, number>();
  #running = false;

  private constructor(options: ChannelTrafficOptions) {
    this.#options = options;
  }

  /** Connects and subscribes every subscriber (waiting for each first subscribe), then starts the publishers. */
  static async start(options: ChannelTrafficOptions): Promise<ChannelTraffic> {
    const t = new ChannelTraffic(options);
    const { urls, channels, subscribers, channelsPerSubscriber, publishers } = options;
    const label = options.label ?? '';
    const subClients = await Promise.all(
      Array.from({ length: subscribers }, (_, i) => clusterClient(urls, `${label}sub-${i}`, i % urls.length)),
    );
    const ready: Promise<void>[] = [];
    for (const [i, client] of subClients.entries()) {
      for (let k = 0; k < channelsPerSubscriber; k++) {
        const channel = channels[(i + k) % channels.length] as string;
        const s = t.#subscribe(`${label}sub-${i}`, channel, client);
        ready.push(s.sub.ready);
      }
    }
    await Promise.all(ready);
    const pubClients = await Promise.all(
      Array.from({ length: publishers }, (_, i) =>
        clusterClient(urls, `${label}pub-${i}`, i % urls.length, { requestTimeoutMs: PUBLISHER_REQUEST_TIMEOUT_MS }),
      ),
    );
    t.#publishers.push(...pubClients);
    for (const c of pubClients) {
      c.on('state', (e) => {
        if (e.state === 'connected') t.#connects.set(c, (t.#connects.get(c) ?? 0) + 1);
      });
    }
    t.#running = true;
    for (const [i, c] of pubClients.entries()) t.#loops.push(t.#publishLoop(c, `${label}pub-${i}`));
    return t;
  }

  /** Every client (subscribers' and publishers'). */
  get clients(): SynclineClient[] {
    return [...new Set([...this.#subs.map((s) => s.client), ...this.#publishers])];
  }

  /** Subscriptions as `[subscriber, channel, subscription]`. */
  get subscriptions(): ReadonlyArray<readonly [string, string, Subscription]> {
    return this.#subs.map((s) => [s.name, s.channel, s.sub] as const);
  }

  /** Acknowledgements so far (for waits on progress). */
  get ackCount(): number {
    return this.acks.length;
  }

  /** Stops the publishers; each finishes (acks or gives up on) the key it is on. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /**
   * What is not yet quiet against each channel's final position: clients not
   * connected, subscriptions not subscribed or not at the final position.
   */
  lagging(finals: ReadonlyMap<string, ChannelPosition>): string[] {
    const out: string[] = [];
    for (const c of this.clients) if (c.state !== 'connected') out.push(`client ${c.state}`);
    for (const s of this.#subs) {
      const want = finals.get(s.channel);
      const pos = s.sub.position;
      if (s.sub.state !== 'subscribed' || !want || pos?.epoch !== want.epoch || pos.offset !== want.offset) {
        out.push(
          `${s.name} ${s.channel} ${s.sub.state} at ${pos?.epoch}:${pos?.offset} want ${want?.epoch}:${want?.offset}`,
        );
      }
    }
    return out;
  }

  #subscribe(name: string, channel: string, client: SynclineClient): SubscriberChannel {
    const sub = recordSubscription(this.#options.recorder, client, name, channel);
    const s: SubscriberChannel = { name, channel, client, sub };
    this.#subs.push(s);
    return s;
  }

  async #publishLoop(client: SynclineClient, name: string): Promise<void> {
    const { channels, rng, publishPauseMs } = this.#options;
    for (let n = 1; this.#running && n <= MAX_PUBLISHES; n++) {
      const channel = channels[Math.floor(rng() * channels.length)] as string;
      await this.#publishKey(client, name, channel, `${name}-${n}`, { from: name, n });
      await delay(between(rng, Math.round(publishPauseMs / 2), Math.round((publishPauseMs * 3) / 2)));
    }
  }

  /** Publishes one key until acknowledged, retrying with the same key on retryable errors (bounded). */
  async #publishKey(
    client: SynclineClient,
    name: string,
    channel: string,
    key: string,
    payload: AckedPublish['payload'],
  ): Promise<void> {
    const rec = this.#options.recorder;
    const deadline = Date.now() + PUBLISH_GIVE_UP_MS;
    // True while every earlier attempt of this key was sent once and answered `unavailable` ("nothing was stored").
    let onlyUnavailable = true;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_KEY; attempt++) {
      const h = rec.publishInvoked({ publisher: name, channel, key, payload });
      // An attempt made on a connected client that saw no reconnect before its answer was sent exactly once.
      const connects = this.#connects.get(client) ?? 0;
      const sentOnce = (): boolean => client.state === 'connected' && this.#connects.get(client) === connects;
      const wasConnected = client.state === 'connected';
      try {
        const r = await client.publish(channel, payload, { id: key });
        const duplicate = r.duplicate === true;
        h.acked(duplicate ? { epoch: r.epoch, offset: r.offset, duplicate } : { epoch: r.epoch, offset: r.offset });
        if (duplicate && attempt > 1 && onlyUnavailable && wasConnected && sentOnce()) {
          this.unavailableButApplied.push(
            `${key} was answered unavailable ${attempt - 1} time(s), then duplicate at ${channel}@${r.epoch}:${r.offset}`,
          );
        }
        this.acks.push({
          publisher: name,
          channel,
          key,
          payload,
          epoch: r.epoch,
          offset: r.offset,
          duplicate,
          phase: this.phase,
        });
        return;
      } catch (err) {
        const code = errorCode(err) || 'no_code';
        if (code !== 'unavailable' || !wasConnected || !sentOnce()) onlyUnavailable = false;
        if (UNKNOWN_OUTCOME_CODES.has(code)) h.unknown(code);
        else h.failed(code);
        this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
        if (errorGroup(code) !== 'retry' || Date.now() > deadline) return;
        await delay(between(this.#options.rng, 50, 250));
      }
    }
  }
}

/** Reads a channel's whole retained history through a node's HTTP API (paged). */
export async function readChannelHistory(nodeUrl: string, channel: string): Promise<FinalChannelHistory> {
  const publications: Array<{ offset: number; payload: unknown }> = [];
  let since = 0;
  for (let page = 0; page < 100; page++) {
    const res = await fetch(`${nodeUrl}/v1/channels/${encodeURIComponent(channel)}/history?since=${since}&limit=1000`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    if (res.status !== 200)
      throw new Error(`history of ${channel} on ${nodeUrl}: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      epoch: string;
      offset: number;
      publications: Array<{ offset: number; data: unknown }>;
      next?: number;
    };
    for (const p of body.publications) publications.push({ offset: p.offset, payload: p.data });
    if (body.next === undefined) return { channel, epoch: body.epoch, offset: body.offset, publications };
    since = body.next;
  }
  throw new Error(`history of ${channel}: more than 100 pages`);
}
