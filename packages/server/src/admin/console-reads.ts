import type { IncomingMessage, ServerResponse } from 'node:http';
import { SynclineError } from '@syncline/protocol';
import type { HttpRouter } from '../http/router.js';
import type { AdminStatic } from './admin-static.js';

/** Most document namespaces `GET /admin/api/docs` lists (the rest are counted in `truncated`). */
export const MAX_CONSOLE_NAMESPACES = 200;
/** Most mutator names listed per namespace. */
export const MAX_CONSOLE_MUTATORS = 500;
/** How long one read of the webhook outbox serves every console, ms (one store read per second at most). */
export const CONSOLE_WEBHOOK_SUMMARY_TTL_MS = 1_000;

/** A document namespace as the console shows it: its mutators (by name) and schema version. */
export interface ConsoleDocNamespace {
  readonly namespace: string;
  readonly mutators: readonly string[];
  readonly schemaVersion: number;
}

/** The webhook outbox at a glance, for the console's Webhooks page. */
export interface ConsoleWebhookSummary {
  /** Webhook receivers configured (0: the node sends no webhooks). */
  readonly receivers: number;
  /** Deliveries waiting to be sent. */
  readonly pending: number;
  /** Deliveries given up on after `retryForMs`, kept for inspection and retry. */
  readonly failed: number;
  /** Creation time of the oldest pending delivery, ms since the epoch (null: none). */
  readonly oldestPendingAt: number | null;
}

/** What the console's read routes use of the node. */
export interface ConsoleReadSources {
  /** The node's document namespaces. */
  docNamespaces(): readonly ConsoleDocNamespace[];
  /** Reads the webhook outbox's counts (a store read). */
  webhookSummary(): Promise<ConsoleWebhookSummary>;
}

/** The namespaces answer: bounded in namespaces and in mutators per namespace. */
export function namespacesAnswer(list: readonly ConsoleDocNamespace[]): {
  namespaces: ConsoleDocNamespace[];
  truncated: boolean;
} {
  const truncated = list.length > MAX_CONSOLE_NAMESPACES || list.some((n) => n.mutators.length > MAX_CONSOLE_MUTATORS);
  return {
    namespaces: list.slice(0, MAX_CONSOLE_NAMESPACES).map((n) => ({
      namespace: n.namespace,
      mutators: [...n.mutators].sort().slice(0, MAX_CONSOLE_MUTATORS),
      schemaVersion: n.schemaVersion,
    })),
    truncated,
  };
}

/**
 * One read shared by every caller for `ttlMs`: consoles polling at once
 * cost the store one read per interval. A failed read is not kept.
 */
export function sharedRead<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let cached: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (!cached || t - cached.at >= ttlMs) {
      const value = read();
      const entry = { at: t, value };
      cached = entry;
      value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}

/** A route handler that needs a console session (throws `unauthorized` without one) and answers `no-store`. */
export type SessionRoute = (path: string, answer: (req: IncomingMessage) => unknown) => void;

/**
 * Registers the console's reads beyond the HTTP API: its document
 * namespaces with their mutators, and the webhook outbox's counts; and the
 * document pages (`/admin/docs/{name}`, served as the console's page).
 */
export function registerConsoleReads(
  router: HttpRouter,
  route: SessionRoute,
  files: Pick<AdminStatic, 'serve'>,
  sources: ConsoleReadSources,
): void {
  route('/admin/api/docs', () => namespacesAnswer(sources.docNamespaces()));
  const summary = sharedRead(sources.webhookSummary, CONSOLE_WEBHOOK_SUMMARY_TTL_MS);
  route('/admin/api/webhooks', async () => {
    try {
      return await summary();
    } catch (err) {
      throw new SynclineError('unavailable', 'The webhook outbox is unavailable; retry shortly.', {
        cause: err,
        retryAfterMs: 1_000,
      });
    }
  });
  for (const method of ['GET', 'HEAD']) {
    // Any document name: the page is the console's, which reads the name from the location.
    router.add(method, '/admin/docs/:name', (req: IncomingMessage, res: ServerResponse) => files.serve(req, res, '/'));
  }
}
