import type { PresenceEntry } from '@syncline/protocol';
import type * as v from 'valibot';
import type { ServerCore } from '../core.js';
import { CHANNEL_ERRORS, channelParam, limitParam } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import { ApiChannel, MAX_PRESENCE_PAGE, PresenceQuery, PresenceResponse } from '../http/api-schemas.js';
import type { PresenceService } from './register-presence.js';

/** What the presence route uses of the server. */
export interface PresenceRouteServices extends Pick<PresenceService, 'list'> {
  readonly namespaces: ServerCore['namespaces'];
}

/** Groups presence entries into members (one per user). */
export function groupMembers(entries: readonly PresenceEntry[]) {
  const byUser = new Map<string, { user: string; info?: unknown; entries: Omit<PresenceEntry, 'user' | 'info'>[] }>();
  for (const e of entries) {
    let m = byUser.get(e.user);
    if (!m) {
      m = e.info === undefined ? { user: e.user, entries: [] } : { user: e.user, info: e.info, entries: [] };
      byUser.set(e.user, m);
    }
    m.entries.push({ clientId: e.clientId, state: e.state, enteredAt: e.enteredAt, updatedAt: e.updatedAt });
  }
  return [...byUser.values()];
}

/**
 * One page of members sorted by user id: those after `after`, at most
 * `limit` (all without one), with `next` when more follow.
 */
export function pageMembers(
  members: ReturnType<typeof groupMembers>,
  after: string | undefined,
  limit: number | undefined,
): { members: ReturnType<typeof groupMembers>; next?: string } {
  const sorted = members
    .filter((m) => after === undefined || m.user > after)
    .sort((a, b) => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0));
  if (limit === undefined || sorted.length <= limit) return { members: sorted };
  const page = sorted.slice(0, limit);
  return { members: page, next: (page[page.length - 1] as { user: string }).user };
}

/** The HTTP API route of presence: a channel's set, paged by user. */
export function presenceRoutes(services: PresenceRouteServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/channels/:channel/presence',
      operationId: 'channelPresence',
      summary: 'Presence set of a channel, one member per user with one entry per connection.',
      params: { channel: ApiChannel },
      query: PresenceQuery,
      response: PresenceResponse,
      errors: [...CHANNEL_ERRORS, 'presence_disabled'],
      handle: async ({ params, query }) => {
        const channel = channelParam(services.namespaces, params);
        const q = query as v.InferOutput<typeof PresenceQuery>;
        const limit = q.limit === undefined ? undefined : limitParam(q.limit, MAX_PRESENCE_PAGE, MAX_PRESENCE_PAGE);
        const snapshot = await services.list(channel);
        return { channel, seq: snapshot.seq, ...pageMembers(groupMembers(snapshot.entries), q.after, limit) };
      },
    },
  ];
}
