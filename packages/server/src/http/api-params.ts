import { type ErrorCode, SynclineError } from '@syncline/protocol';
import type { NamespaceRegistry } from '../namespaces/namespaces.js';
import { validate } from './api-request.js';
import { ApiChannel, ApiUser } from './api-schemas.js';

/** Errors every route with a channel in its path or body may answer. */
export const CHANNEL_ERRORS: readonly ErrorCode[] = ['invalid_request', 'bad_channel', 'unknown_namespace'];

/** The `:channel` path parameter, validated and of a configured namespace. */
export function channelParam(namespaces: NamespaceRegistry, params: Readonly<Record<string, string>>): string {
  const channel = validate(ApiChannel, params.channel, 'path');
  namespaces.forChannel(channel);
  return channel;
}

/** The `:user` path parameter, validated. */
export function userParam(params: Readonly<Record<string, string>>): string {
  return validate(ApiUser, params.user, 'path');
}

/**
 * A page size from the query string (already checked to be digits): `fallback`
 * when absent, `invalid_request` at `limit` when outside 1 to `max`.
 */
export function limitParam(raw: string | undefined, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  if (limit < 1 || limit > max) {
    throw new SynclineError('invalid_request', `Invalid query at "limit": expected 1 to ${max}.`, {
      details: { path: 'limit', in: 'query' },
    });
  }
  return limit;
}
