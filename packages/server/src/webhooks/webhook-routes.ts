import { SynclineError } from '@syncline/protocol';
import * as v from 'valibot';
import { validate } from '../http/api-request.js';
import type { ApiRoute } from '../http/api-route.js';
import { WEBHOOK_EVENT_TYPES } from './webhook-options.js';
import type { DeliveryStatus, OutboxDelivery } from './webhook-outbox.js';

/** What the webhook routes use of the feature. */
export interface WebhookDeliveryService {
  /** Deliveries by status, by increasing id after `after`. */
  list(status: DeliveryStatus, after: number, limit: number): Promise<OutboxDelivery[]>;
  /** Makes a delivery pending and due now; undefined when there is none with that id. */
  retry(id: number): Promise<OutboxDelivery | undefined>;
  /** How many webhook entries receive the publications of `namespace` (absent: none are configured). */
  publicationReceivers?(namespace: string): number;
}

const Digits = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Expected a non-negative integer.'));

/** `GET /v1/webhooks/deliveries` query. */
export const DeliveriesQuery = v.strictObject({
  status: v.optional(
    v.pipe(v.picklist(['failed', 'pending']), v.description('Deliveries of this status; default failed.')),
  ),
  after: v.optional(v.pipe(Digits, v.description('Deliveries with a larger id (paging); default 0.'))),
  limit: v.optional(v.pipe(Digits, v.description('Page size, 1–1000; default 100.'))),
});

/** The `{id}` path parameter. */
const DeliveryId = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'Expected a delivery id.'));

/** One delivery as the API shows it. */
export const ApiDelivery = v.object({
  id: v.pipe(v.number(), v.description('Delivery id (one per event and receiver).')),
  url: v.string(),
  status: v.picklist(['pending', 'failed']),
  attempts: v.number(),
  createdAt: v.pipe(v.number(), v.description('When the event was added (or retried by hand), ms since the epoch.')),
  nextAttemptAt: v.number(),
  lastError: v.optional(v.string()),
  event: v.object({
    id: v.string(),
    type: v.picklist(WEBHOOK_EVENT_TYPES),
    time: v.string(),
    data: v.record(v.string(), v.unknown()),
  }),
});

/** Response of `GET /v1/webhooks/deliveries`. */
export const DeliveriesResponse = v.object({ deliveries: v.array(ApiDelivery) });
/** Response of `POST /v1/webhooks/deliveries/{id}/retry`. */
export const RetryResponse = v.object({ delivery: ApiDelivery });

function publicDelivery(d: OutboxDelivery): v.InferOutput<typeof ApiDelivery> {
  return {
    id: d.id,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    createdAt: d.createdAt,
    nextAttemptAt: d.nextAttemptAt,
    ...(d.lastError === undefined ? {} : { lastError: d.lastError }),
    event: d.event,
  };
}

/**
 * The webhook routes of the HTTP API: the deliveries not made yet (failed
 * ones by default) and a manual retry of one.
 */
export function webhookRoutes(service: WebhookDeliveryService): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/webhooks/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: 'Webhook deliveries not made yet: failed (given up after `retryForMs`) or pending, oldest first.',
      query: DeliveriesQuery,
      response: DeliveriesResponse,
      errors: ['invalid_request'],
      handle: async ({ query }) => {
        const q = query as v.InferOutput<typeof DeliveriesQuery>;
        const limit = q.limit === undefined ? 100 : Number(q.limit);
        if (limit < 1 || limit > 1_000) {
          throw new SynclineError('invalid_request', 'Invalid query at "limit": expected 1 to 1000.', {
            details: { path: 'limit', in: 'query' },
          });
        }
        const after = q.after === undefined ? 0 : Number(q.after);
        return { deliveries: (await service.list(q.status ?? 'failed', after, limit)).map(publicDelivery) };
      },
    },
    {
      method: 'POST',
      path: '/v1/webhooks/deliveries/:id/retry',
      operationId: 'retryWebhookDelivery',
      summary:
        'Send a delivery again now (same event id), with a fresh retry window; it goes before the newer pending events of its stream.',
      params: { id: DeliveryId },
      response: RetryResponse,
      errors: ['invalid_request', 'not_found'],
      handle: async ({ params }) => {
        const id = Number(validate(DeliveryId, params.id, 'path'));
        const d = await service.retry(id);
        if (!d) throw new SynclineError('not_found', `No webhook delivery ${id}.`);
        return { delivery: publicDelivery(d) };
      },
    },
  ];
}
