/** The event types a webhook entry may ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'channel.occupied',
  'channel.vacated',
  'presence.joined',
  'presence.left',
  'publication',
  'doc.committed',
  'user.connected',
  'user.disconnected',
] as const;

/** One webhook event type. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** One entry of the server's `webhooks`: where events go and which ones. */
export interface WebhookEndpointOptions {
  /** Receiver URL, `http:` or `https:` only. */
  readonly url: string;
  /** Event types this receiver gets (and no others). */
  readonly events: readonly WebhookEventType[];
  /** Secret of the `Syncline-Signature` HMAC (16–512 characters). */
  readonly secret: string;
  /**
   * Namespaces of the channels and documents whose events this receiver gets
   * (default all). User events have no namespace and are not filtered by it.
   * Required when `events` has `publication`: publications are sent only for
   * the namespaces listed.
   */
  readonly namespaces?: readonly string[];
  /** How long an event is retried before it is kept as failed, ms (default 24 h). */
  readonly retryForMs?: number;
}

/** How the node delivers webhook events (defaults suit production; tests shorten the timings). */
export interface WebhookDeliveryOptions {
  /** Longest wait for a receiver's answer, ms (default 10 s). */
  readonly timeoutMs?: number;
  /** Requests in flight at once over every receiver (default 8). */
  readonly concurrency?: number;
  /** Events in one request (default 100). */
  readonly maxBatchEvents?: number;
  /** Largest request body, bytes (default 256 KiB; an event alone over it is still sent alone). */
  readonly maxBatchBytes?: number;
  /** Undelivered events (pending and failed) the outbox holds (default 100,000); past it new events are dropped. */
  readonly maxOutboxEvents?: number;
  /** First retry delay, ms (default 1 s); doubled each attempt, with jitter. */
  readonly retryBaseMs?: number;
  /** Longest retry delay, ms (default 1 h). */
  readonly retryMaxMs?: number;
  /** How long failed events are kept for inspection and manual retry, ms (default 7 days). */
  readonly failedRetentionMs?: number;
  /** Interval of the delivery loop's look at due retries, ms (default 1 s; new events are sent at once). */
  readonly pollIntervalMs?: number;
}

/** The delivery settings in force. */
export type ResolvedWebhookDelivery = Required<WebhookDeliveryOptions>;

/** Defaults of `WebhookDeliveryOptions`. */
export const WEBHOOK_DELIVERY_DEFAULTS: ResolvedWebhookDelivery = {
  timeoutMs: 10_000,
  concurrency: 8,
  maxBatchEvents: 100,
  maxBatchBytes: 256 * 1024,
  maxOutboxEvents: 100_000,
  retryBaseMs: 1_000,
  retryMaxMs: 3_600_000,
  failedRetentionMs: 7 * 24 * 3_600_000,
  pollIntervalMs: 1_000,
};

/** Default of `retryForMs`: 24 h. */
export const DEFAULT_WEBHOOK_RETRY_FOR_MS = 24 * 3_600_000;
/** Most webhook entries a server takes. */
export const MAX_WEBHOOK_ENDPOINTS = 16;
/** Most namespaces one entry may list. */
export const MAX_WEBHOOK_NAMESPACES = 64;
/** Longest receiver URL. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;
/** Shortest and longest signing secret. */
export const WEBHOOK_SECRET_LENGTH = { min: 16, max: 512 } as const;

/** A validated webhook entry. */
export interface ResolvedWebhookEndpoint {
  readonly index: number;
  readonly url: string;
  readonly events: ReadonlySet<WebhookEventType>;
  readonly secret: string;
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly retryForMs: number;
}

function problem(index: number, what: string): Error {
  return new Error(`webhooks[${index}]: ${what}`);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`webhookDelivery.${name} must be a positive number.`);
  return value;
}

/** Validates the server's `webhooks`; throws an `Error` naming the entry and the problem. */
export function resolveWebhookEndpoints(entries: readonly WebhookEndpointOptions[]): ResolvedWebhookEndpoint[] {
  if (entries.length > MAX_WEBHOOK_ENDPOINTS) {
    throw new Error(`webhooks: at most ${MAX_WEBHOOK_ENDPOINTS} entries (got ${entries.length}).`);
  }
  return entries.map((e, index) => {
    if (typeof e.url !== 'string' || e.url.length > MAX_WEBHOOK_URL_LENGTH) {
      throw problem(index, `url must be a string of at most ${MAX_WEBHOOK_URL_LENGTH} characters.`);
    }
    let url: URL;
    try {
      url = new URL(e.url);
    } catch {
      throw problem(index, `url "${e.url.slice(0, 100)}" is not a valid URL.`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw problem(index, `url must be http: or https: (got ${url.protocol}).`);
    }
    if (url.username !== '' || url.password !== '') throw problem(index, 'url must not carry credentials.');
    if (!Array.isArray(e.events) || e.events.length === 0) throw problem(index, 'events must list at least one type.');
    for (const type of e.events) {
      if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
        throw problem(index, `unknown event type "${String(type).slice(0, 50)}".`);
      }
    }
    if (
      typeof e.secret !== 'string' ||
      e.secret.length < WEBHOOK_SECRET_LENGTH.min ||
      e.secret.length > WEBHOOK_SECRET_LENGTH.max
    ) {
      throw problem(
        index,
        `secret must be ${WEBHOOK_SECRET_LENGTH.min}–${WEBHOOK_SECRET_LENGTH.max} characters (use \`openssl rand -hex 32\`).`,
      );
    }
    if (e.namespaces !== undefined) {
      if (!Array.isArray(e.namespaces) || e.namespaces.length > MAX_WEBHOOK_NAMESPACES) {
        throw problem(index, `namespaces must be a list of at most ${MAX_WEBHOOK_NAMESPACES} names.`);
      }
      for (const ns of e.namespaces) {
        if (typeof ns !== 'string' || ns.length === 0 || ns.length > 64 || ns.includes(':')) {
          throw problem(index, 'each namespace must be a name of 1–64 characters without ":".');
        }
      }
    }
    if (e.events.includes('publication') && e.namespaces === undefined) {
      throw problem(index, '`publication` events are opt-in per namespace: list them in `namespaces`.');
    }
    const retryForMs = e.retryForMs ?? DEFAULT_WEBHOOK_RETRY_FOR_MS;
    if (!Number.isFinite(retryForMs) || retryForMs <= 0) throw problem(index, 'retryForMs must be positive.');
    return {
      index,
      url: url.href,
      events: new Set(e.events),
      secret: e.secret,
      namespaces: e.namespaces === undefined ? undefined : new Set(e.namespaces),
      retryForMs,
    };
  });
}

/** The delivery settings with their defaults; throws on a value that is not positive. */
export function resolveWebhookDelivery(o: WebhookDeliveryOptions = {}): ResolvedWebhookDelivery {
  const d = WEBHOOK_DELIVERY_DEFAULTS;
  return {
    timeoutMs: positive('timeoutMs', o.timeoutMs, d.timeoutMs),
    concurrency: Math.floor(positive('concurrency', o.concurrency, d.concurrency)),
    maxBatchEvents: Math.floor(positive('maxBatchEvents', o.maxBatchEvents, d.maxBatchEvents)),
    maxBatchBytes: positive('maxBatchBytes', o.maxBatchBytes, d.maxBatchBytes),
    maxOutboxEvents: Math.floor(positive('maxOutboxEvents', o.maxOutboxEvents, d.maxOutboxEvents)),
    retryBaseMs: positive('retryBaseMs', o.retryBaseMs, d.retryBaseMs),
    retryMaxMs: positive('retryMaxMs', o.retryMaxMs, d.retryMaxMs),
    failedRetentionMs: positive('failedRetentionMs', o.failedRetentionMs, d.failedRetentionMs),
    pollIntervalMs: positive('pollIntervalMs', o.pollIntervalMs, d.pollIntervalMs),
  };
}
