import type { PresenceEntry } from '@syncline/protocol';
import type { ServerCore } from '../core.js';
import { CHANNEL_ERRORS, channelParam } from '../http/api-params.js';
import type { ApiRoute } from '../http/api-route.js';
import { ApiChannel, PresenceResponse } from '../http/api-schemas.js';
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

/** The HTTP API route of presence: a channel's set. */
export function presenceRoutes(services: PresenceRouteServices): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/v1/channels/:channel/presence',
      operationId: 'channelPresence',
      summary: 'Presence set of a channel, one member per user with one entry per connection.',
      params: { channel: ApiChannel },
      response: PresenceResponse,
      errors: [...CHANNEL_ERRORS, 'presence_disabled'],
      handle: async ({ params }) => {
        const channel = channelParam(services.namespaces, params);
        const snapshot = await services.list(channel);
        return { channel, seq: snapshot.seq, members: groupMembers(snapshot.entries) };
      },
    },
  ];
}
