import type { ErrorCode } from '@syncline/protocol';
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
