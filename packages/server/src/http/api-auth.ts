import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SynclineError } from '@syncline/protocol';

/**
 * Checks `Authorization: Bearer <apiKey>` on an HTTP API request; throws
 * `unauthorized` when it is missing or wrong, or when the server has no API key.
 */
export function requireApiKey(req: IncomingMessage, apiKey: string | undefined): void {
  if (!apiKey) throw new SynclineError('unauthorized', 'The HTTP API is disabled: no apiKey is configured.');
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) throw new SynclineError('unauthorized', 'Missing "Authorization: Bearer <api key>" header.');
  const given = Buffer.from(m[1] as string);
  const want = Buffer.from(apiKey);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new SynclineError('unauthorized', 'Wrong API key.');
  }
}
