import type { ClientCommand, CloseCodeName, CommandOf, CommandType } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { RevocationCache } from './auth/revocation-cache.js';
import type { TokenVerifier } from './auth/token-verifier.js';
import type { Broker } from './broker/broker.js';
import type { NodesAnswered } from './cluster/node-calls.js';
import type { ServerHooks } from './hooks.js';
import type { ServerMetrics } from './metrics/metrics.js';
import type { NamespaceRegistry } from './namespaces/namespaces.js';
import type { Session } from './session/session.js';
import type { SqliteDatabase } from './storage/sqlite.js';

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
  /** RPC calls per second per connection, sustained (token bucket; default 50). */
  readonly rpcRatePerSec: number;
  /** RPC calls one connection may make at once before the rate applies (default 100). */
  readonly rpcBurst: number;
  /** RPC calls one connection may have running at once (default 16). */
  readonly rpcConcurrency: number;
  /** Longest an RPC handler may take before the call is answered `timeout`, ms (default 10,000; per method `timeoutMs`). */
  readonly rpcTimeoutMs: number;
}

/**
 * What feature modules (channels, documents, presence, HTTP API) see of the
 * server: shared services and registration points.
 */
export interface ServerCore {
  readonly nodeId: string;
  readonly logger: Logger;
  readonly broker: Broker;
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
  /** Listeners of session lifecycle events; feature modules add theirs. */
  readonly sessionEvents: SessionEvents;
  /** Operations on a user's connections on every node (messages, disconnects, revocations). */
  readonly users: UserConnections;
  /** Subscriber counts per channel: over every node with a `channelCounts` store, else this node's. */
  subscriberCounts(): Promise<ReadonlyMap<string, number>>;
}

/** Session lifecycle listeners. */
export interface SessionEvents {
  readonly connected: Set<(session: Session) => void>;
  /**
   * After a `refresh` changed the session's token: each feature ends what
   * the new token no longer allows. A listener may return the channels it
   * unsubscribed (the `refresh` reply lists them).
   */
  readonly refreshed: Set<(session: Session) => readonly string[] | undefined>;
  readonly closed: Set<(session: Session, code: number, reason: string) => void>;
}

/** A command of any type with its handler, for the dispatch table. */
export type AnyHandler = (session: Session, command: ClientCommand) => unknown;

/** Connections an operation reached on every node that answered, and how many nodes did. */
export interface ClusterCount {
  /** Connections reached on this node plus those reported by the nodes that answered. */
  readonly total: number;
  /** Nodes whose count is in `total`, and nodes the operation went to (both with this one). */
  readonly nodes: NodesAnswered;
  /** True when some node did not answer in time (`answered < expected`): `total` may be short. */
  readonly partial: boolean;
}

/** Outcome of a user operation: its effect on this node, and on the others. */
export interface UserOpResult<T, C = void> {
  /** The result on this node (connections reached here, the revocation time in force …). */
  readonly local: T;
  /**
   * Resolves once the operation is stored (revocations) and handed to the
   * broker for every other node, and (for the operations that count) the
   * other live nodes replied with their counts or the wait for them ended;
   * rejects with a `SynclineError` when the operation could not be sent.
   * Resolves at once on a single node.
   */
  readonly cluster: Promise<C>;
}

/**
 * Operations on a user's connections wherever they are (implemented by the
 * users feature, `UserOperations`): each applies to this node's sessions at
 * once (`local`) and reaches every other node through the cluster
 * (`cluster`). Revocations are stored before the other nodes are told, so
 * nodes that miss the message or start later enforce them too.
 */
export interface UserConnections {
  /** The node's revocation cache (checked at connect and refresh). */
  readonly revocations: RevocationCache;
  /** Sends a `message` push to every connection of the user. */
  sendToUser(user: string, data: unknown): UserOpResult<number, ClusterCount>;
  /** Closes every connection of the user. */
  disconnect(user: string, close: CloseCodeName, reason: string): UserOpResult<number, ClusterCount>;
  /** Refuses the user's tokens issued before `before` and closes the connections holding them. */
  revoke(
    user: string,
    before: number,
    reason: string,
  ): UserOpResult<{ before: number; disconnected: number }, ClusterCount>;
  /** Lifts the user's revocation; `local` says whether this node had one. */
  lift(user: string): UserOpResult<boolean>;
  /** Logs a failed cluster delivery (for callers that do not wait for it). */
  logFailure(what: string, user: string, cluster: Promise<unknown>): void;
}
