import type { UpdateMessage } from '../app-versions.js';
import type { DocServerMessage } from './docs.js';
import type { PresenceServerMessage } from './presence.js';
import type { CoreServerMessage } from './server.js';

/**
 * Any server→client message: the core ones (replies, errors, publications,
 * heartbeats, `disconnect`, `status`), the document area's (`doc.patch`,
 * `doc.snapshot`, `doc.unsubscribed`), the presence area's
 * (`presence.state`, `presence.diff`, `presence.ended`), user messages
 * (`message`) and app version pushes (`update`). Discriminated by `type`.
 */
export type ServerMessage = CoreServerMessage | DocServerMessage | PresenceServerMessage | UpdateMessage;

/** Type name of any server message. */
export type ServerMessageType = ServerMessage['type'];

/** Server message of one type. */
export type ServerMessageOf<T extends ServerMessageType> = Extract<ServerMessage, { readonly type: T }>;

/**
 * Every server message type, as a set. The `satisfies` clause keeps it equal
 * to `ServerMessageType`: a message added to the union without its name here
 * (or a name without its message) does not compile.
 */
const SERVER_MESSAGE_TYPES = {
  reply: true,
  error: true,
  pub: true,
  unsubscribed: true,
  disconnect: true,
  ping: true,
  pong: true,
  status: true,
  update: true,
  message: true,
  'doc.patch': true,
  'doc.snapshot': true,
  'doc.unsubscribed': true,
  'presence.state': true,
  'presence.diff': true,
  'presence.ended': true,
} as const satisfies Record<ServerMessageType, true>;

/**
 * True when a decoded value is a server message this protocol knows: a
 * non-array object whose `type` names one of the `ServerMessage` types.
 * Only the discriminant is checked: the other fields are the server's
 * contract (its sends are typed by the same union) and are not validated
 * again on every message. A message of a type this client does not know
 * (from a newer server) is not a `ServerMessage`.
 */
export function isServerMessage(value: unknown): value is ServerMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('type' in value)) return false;
  return typeof value.type === 'string' && Object.hasOwn(SERVER_MESSAGE_TYPES, value.type);
}
