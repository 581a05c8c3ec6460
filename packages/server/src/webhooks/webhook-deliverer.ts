import type { Logger } from 'pino';
import type { ResolvedWebhookDelivery, ResolvedWebhookEndpoint } from './webhook-options.js';
import { type OutboxDelivery, streamKey, type WebhookOutbox } from './webhook-outbox.js';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature.js';

/** Running totals of the delivery loop, read by the metrics. */
export interface DeliveryCounts {
  /** Events a receiver acknowledged (2xx). */
  delivered: number;
  /** Requests that failed (non-2xx, timeout, network error). */
  failedAttempts: number;
  /** Events given up on after `retryForMs` (kept as failed). */
  failedEvents: number;
}

/** Delay before attempt `attempts + 1`: exponential from `baseMs`, capped, with jitter (half to all of it). */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random: () => number): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(attempts, 40));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Longest error text kept with a delivery. */
const MAX_ERROR_CHARS = 300;

/**
 * Sends the outbox's deliveries: at most `concurrency` requests at once, one
 * request per (receiver, stream) at a time, each a batch of that stream's
 * oldest events in order. A 2xx deletes the batch; anything else schedules
 * the stream's next attempt with backoff, or keeps the events as failed once
 * they are older than the receiver's `retryForMs`. Other streams keep going.
 */
export class WebhookDeliverer {
  readonly #outbox: WebhookOutbox;
  readonly #endpoints: ReadonlyMap<number, ResolvedWebhookEndpoint>;
  readonly #options: ResolvedWebhookDelivery;
  readonly #logger: Logger;
  readonly #inFlight = new Map<string, AbortController>();
  readonly #settled = new Set<Promise<void>>();
  readonly counts: DeliveryCounts = { delivered: 0, failedAttempts: 0, failedEvents: 0 };
  #timer: NodeJS.Timeout | undefined;
  #wakeScheduled = false;
  #pumping = false;
  #pumpAgain = false;
  #lastPrune = 0;
  #lastWarn = 0;
  #stopped = false;

  constructor(
    outbox: WebhookOutbox,
    endpoints: readonly ResolvedWebhookEndpoint[],
    options: ResolvedWebhookDelivery,
    logger: Logger,
  ) {
    this.#outbox = outbox;
    this.#endpoints = new Map(endpoints.map((e) => [e.index, e]));
    this.#options = options;
    this.#logger = logger;
  }

  /** Starts the loop (a look at due deliveries every `pollIntervalMs`, and at once after `wake`). */
  start(): void {
    if (this.#timer || this.#stopped || this.#endpoints.size === 0) return;
    this.#timer = setInterval(() => this.#pump(), this.#options.pollIntervalMs);
    this.#timer.unref();
    this.wake();
  }

  /** New deliveries were added: look at them after the current turn. */
  wake(): void {
    if (this.#wakeScheduled || this.#stopped || !this.#timer) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.#pump();
    });
  }

  /** Stops sending; requests in flight are aborted (their events stay pending and are sent again later). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const controller of this.#inFlight.values()) controller.abort();
    while (this.#settled.size > 0 || this.#pumping) {
      await Promise.allSettled([...this.#settled]);
      if (this.#pumping) await new Promise((r) => setImmediate(r));
    }
  }

  /** Starts due streams up to the free request slots; one look at a time. */
  #pump(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    this.#fill()
      .catch((err: unknown) => this.#warn(err, 'webhook outbox read failed'))
      .finally(() => {
        this.#pumping = false;
        if (this.#pumpAgain) {
          this.#pumpAgain = false;
          this.#pump();
        }
      });
  }

  async #fill(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastPrune >= Math.min(60_000, this.#options.pollIntervalMs * 10)) {
      this.#lastPrune = now;
      await this.#outbox.prune(now - this.#options.failedRetentionMs, this.#options.maxOutboxEvents);
    }
    const free = this.#options.concurrency - this.#inFlight.size;
    if (free <= 0 || this.#stopped) return;
    for (const head of await this.#outbox.heads(now, free, new Set(this.#inFlight.keys()))) {
      if (this.#stopped) return;
      const key = streamKey(head.endpoint, head.stream);
      if (this.#inFlight.has(key)) continue;
      // The stream is taken before any await, so no other look sends it too.
      const controller = new AbortController();
      this.#inFlight.set(key, controller);
      const done = this.#send(head, controller)
        .catch((err: unknown) => this.#warn(err, 'webhook outbox write failed'))
        .finally(() => {
          this.#inFlight.delete(key);
          this.#settled.delete(done);
          this.wake();
        });
      this.#settled.add(done);
    }
  }

  async #send(head: OutboxDelivery, controller: AbortController): Promise<void> {
    const endpoint = this.#endpoints.get(head.endpoint);
    if (!endpoint || endpoint.url !== head.url) {
      // The entry was removed or now points elsewhere: its events are kept as failed.
      await this.#outbox.fail([head.id], 'the webhook entry is no longer configured', Date.now());
      this.counts.failedEvents++;
      return;
    }
    const batch: OutboxDelivery[] = [];
    let bytes = 2;
    for (const d of await this.#outbox.batch(head.endpoint, head.stream, this.#options.maxBatchEvents)) {
      const size = Buffer.byteLength(d.json) + 1;
      if (batch.length > 0 && bytes + size > this.#options.maxBatchBytes) break;
      batch.push(d);
      bytes += size;
    }
    if (batch.length === 0 || this.#stopped) return;
    const error = await this.#post(endpoint, batch, controller);
    await this.#settle(endpoint, batch, error);
  }

  /** Sends one batch; resolves with undefined when the receiver took it, else what went wrong. */
  async #post(
    endpoint: ResolvedWebhookEndpoint,
    batch: readonly OutboxDelivery[],
    controller: AbortController,
  ): Promise<string | undefined> {
    const body = batch.length === 1 ? (batch[0] as OutboxDelivery).json : `[${batch.map((d) => d.json).join(',')}]`;
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs);
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Syncline-Webhooks/1',
          [WEBHOOK_SIGNATURE_HEADER]: signWebhookBody(endpoint.secret, body, Math.floor(Date.now() / 1_000)),
        },
        body,
        redirect: 'manual',
        signal: controller.signal,
      });
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      if (controller.signal.aborted)
        return this.#stopped ? 'stopped' : `no answer within ${this.#options.timeoutMs} ms`;
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      return `${err instanceof Error ? err.message : String(err)}${cause}`.slice(0, MAX_ERROR_CHARS);
    } finally {
      clearTimeout(timer);
    }
  }

  async #settle(
    endpoint: ResolvedWebhookEndpoint,
    batch: readonly OutboxDelivery[],
    error: string | undefined,
  ): Promise<void> {
    const ids = batch.map((d) => d.id);
    if (error === undefined) {
      await this.#outbox.delivered(ids);
      this.counts.delivered += ids.length;
      return;
    }
    if (this.#stopped) return;
    this.counts.failedAttempts++;
    const now = Date.now();
    const expired = batch.filter((d) => now - d.createdAt >= endpoint.retryForMs).map((d) => d.id);
    const later = batch.filter((d) => now - d.createdAt < endpoint.retryForMs).map((d) => d.id);
    if (expired.length > 0) {
      await this.#outbox.fail(expired, error, now);
      this.counts.failedEvents += expired.length;
    }
    if (later.length > 0) {
      const attempts = (batch[0] as OutboxDelivery).attempts;
      const delay = retryDelayMs(attempts, this.#options.retryBaseMs, this.#options.retryMaxMs, Math.random);
      await this.#outbox.retryLater(later, now + delay, error);
    }
    const outcome = later.length > 0 ? 'will retry' : `${expired.length} event(s) kept as failed`;
    this.#warn(undefined, `webhook delivery to ${endpoint.url} failed (${error}); ${outcome}`);
  }

  /** Logs at warn, at most once a second. */
  #warn(err: unknown, message: string): void {
    const now = Date.now();
    if (now - this.#lastWarn < 1_000) return;
    this.#lastWarn = now;
    this.#logger.warn(err === undefined ? {} : { err }, message);
  }
}
