import { SESSION_CHANNELS_SLOT } from '../channels/session-channels.js';
import { SESSION_DOCS_SLOT } from '../docs/doc-subscribers.js';
import { existingSessionPresence } from '../presence/session-presence.js';
import type { Session } from '../session/session.js';

/** Most names listed per kind (channels, presence, documents) for one connection; `count` has them all. */
export const MAX_NAMES_PER_CONNECTION = 20;

/** Names of a connection's subscriptions of one kind: the first few in sorted order and how many there are. */
export interface NameList {
  readonly count: number;
  /** At most `MAX_NAMES_PER_CONNECTION`, sorted. */
  readonly names: readonly string[];
}

/** One connection as the HTTP API shows it. */
export interface ConnectionDetails {
  /** Session id (unguessable; `POST /v1/connections/{id}/disconnect` takes it). */
  readonly id: string;
  readonly user: string;
  /** Node the connection is on. */
  readonly node: string;
  /** `websocket`, `sse` or `longpoll`. */
  readonly transport: string;
  /** `json` or `msgpack`. */
  readonly codec: string;
  /** Protocol version the connection negotiated. */
  readonly protocol: number;
  /** App version (and build) the client sent in `connect`, if any. */
  readonly app?: { readonly version: string; readonly build?: string };
  /** Client address as the node saw it (with `trustProxyHops`, the address the trusted proxy saw). */
  readonly ip: string;
  /** When the connection was accepted, ms since the epoch. */
  readonly connectedAt: number;
  /** Channels subscribed to (pending subscribes included). */
  readonly channels: NameList;
  /** Channels where the connection holds a presence entry. */
  readonly presence: NameList;
  /** Documents subscribed to. */
  readonly docs: NameList;
}

function nameList(names: Iterable<string> | undefined): NameList {
  const all = names ? [...names] : [];
  all.sort();
  return { count: all.length, names: all.slice(0, MAX_NAMES_PER_CONNECTION) };
}

/** Describes a connected session of this node (`ip`: its client address, as admission saw it). */
export function connectionDetails(session: Session, node: string, ip: string): ConnectionDetails {
  const app = session.app;
  return {
    id: session.id,
    user: session.user,
    node,
    transport: session.conn.transport,
    codec: session.codec.name,
    protocol: session.protocol,
    ...(app
      ? { app: app.build === undefined ? { version: app.version } : { version: app.version, build: app.build } }
      : {}),
    ip,
    connectedAt: session.createdAt,
    channels: nameList(session.peek(SESSION_CHANNELS_SLOT)?.keys()),
    presence: nameList(existingSessionPresence(session)?.entries.keys()),
    docs: nameList(session.peek(SESSION_DOCS_SLOT)),
  };
}
