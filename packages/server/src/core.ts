import type { ClientCommand, CommandOf, CommandType, ErrorCode } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import type { ChannelHub } from './channels/channel-hub.js';
import type { NamespaceRegistry } from './channels/namespaces.js';
import type { ServerHooks } from './hooks.js';
import type { ServerMetrics } from './metrics/metrics.js';
import type { Session } from './session/session.js';
import type { SqliteDatabase } from './storage/sqlite.js';
import type { UserOperations } from './users/user-operations.js';

/** Handles one command type; the result becomes the reply (or `REPLIED`). */
export type CommandHandler<K extends CommandType> = (session: Session, command: CommandOf<K>) => unknown;

/** Limits enforced per connection and per user. */
export interface Limits {
  /** Channels one connection may subscribe to (default 512). */
  readonly maxChannelsPerConnection: number;
  /** Connections one user may hold on a node (default 64). */
  readonly maxConnectionsPerUser: number;
  /** Publishes per second per connection, sustained (token bucket; default 50). */
  readonly publishRatePerSec: number;
  /** Burst size of the publish token bucket (default 100). */
  readonly publishBurst: number;
  /** Document mutations (`doc.mutate`) per second per connection, sustained (token bucket; default 100). */
  readonly mutateRatePerSec: number;
  /** Burst size of the mutation token bucket (default 200). */
  readonly mutateBurst: number;
  /** Presence entries one user may hold in one channel, across connections (default 10). */
  readonly presenceEntriesPerUser: number;
  /** Longest a mutator may run on the server before it is stopped with `mutation_timeout`, ms (default 100). */
  readonly mutatorTimeoutMs: number;
  /**
   * Server thread time one user's mutators may use on this node, ms per
   * second, sustained (default 250; 0: unlimited). Past it, `doc.mutate` gets
   * `rate_limited` until the balance refills.
   */
  readonly mutatorMsPerSec: number;
  /** Burst of mutator time one user may use at once, ms (default 1,000). */
  readonly mutatorBurstMs: number;
  /**
   * Connections one IP address may hold on this node (default 1,000; loopback
   * is not exempt). Connections that have not sent `connect` yet are capped
   * at a quarter of it.
   */
  readonly maxConnectionsPerIp: number;
}

/**
 * What feature modules (channels, documents, presence, HTTP API) see of the
 * server: shared services and registration points.
 */
export interface ServerCore {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly broker: Broker;
  readonly hub: ChannelHub;
  readonly namespaces: NamespaceRegistry;
  readonly verifier: TokenVerifier;
  readonly hooks: ServerHooks;
  readonly limits: Limits;
  /** The embedded database (documents and history share it). */
  readonly db: SqliteDatabase;
  /** Prometheus metrics of this node (e.g. `mutationDuration` for documents). */
  readonly metrics: ServerMetrics;
  /** API key of the HTTP API (undefined: API disabled). */
  readonly apiKey: string | undefined;
  /** Every connected session on this node. */
  readonly sessions: ReadonlySet<Session>;
  /** Registers the handler of a command type. */
  command<K extends CommandType>(type: K, handler: CommandHandler<K>): void;
  /** Connected sessions of one user on this node. */
  sessionsOf(user: string): ReadonlySet<Session>;
  /**
   * Throws `client_outdated` when the session's app version is below the
   * server's `minClientVersion` (call before any write: publish, mutate).
   */
  assertClientCurrent(session: Session): void;
  /** Ends one subscription from the server side, telling the client why. */
  unsubscribeSession(session: Session, channel: string, code: ErrorCode, message: string): void;
  /** Listeners of session lifecycle events; feature modules add theirs. */
  readonly sessionEvents: SessionEvents;
  /** Operations on a user's connections on every node (messages, disconnects, revocations). */
  readonly users: UserOperations;
  /** Subscriber counts per channel: over every node with a `channelCounts` store, else this node's. */
  subscriberCounts(): Promise<ReadonlyMap<string, number>>;
}

/** Session lifecycle listeners. */
export interface SessionEvents {
  readonly connected: Set<(session: Session) => void>;
  readonly refreshed: Set<(session: Session) => void>;
  readonly closed: Set<(session: Session, code: number, reason: string) => void>;
}

/** A command of any type with its handler, for the dispatch table. */
export type AnyHandler = (session: Session, command: ClientCommand) => unknown;
