import { CLOSE_CODES, type CloseCodeName } from '@syncline/protocol';
import type { Logger } from 'pino';
import type { RevocationCache } from '../auth/revocation-cache.js';
import type { NodeCalls } from '../cluster/node-calls.js';
import type { ClusterCount, UserConnections, UserOpResult } from '../core.js';
import type { UserHost } from './user-host.js';
import { sendToUser } from './user-messages.js';

/** Re-exported where it was first defined; the core owns it now. */
export type { UserOpResult } from '../core.js';

/**
 * Node bus channel of user operations (body `{ op, user, … }`). `$` is not
 * allowed in client channel names.
 */
export const USER_OPS_CHANNEL = '$syncline:users';

type UserOp =
  | { readonly op: 'message'; readonly user: string; readonly data: unknown }
  | { readonly op: 'disconnect'; readonly user: string; readonly close: CloseCodeName; readonly reason: string }
  | { readonly op: 'revoke'; readonly user: string; readonly before: number; readonly reason: string }
  | { readonly op: 'lift'; readonly user: string };

/** A node's reply to a counted operation: the connections it reached. */
function connectionCount(reply: unknown): number | undefined {
  return typeof reply === 'number' && Number.isInteger(reply) && reply >= 0 ? reply : undefined;
}

/**
 * Operations on a user's connections wherever they are: each is applied to
 * this node's sessions at once and sent to every other node over the node
 * bus, which applies it to theirs and replies with its count; the `cluster`
 * promise sums the counts of the nodes that replied within `waitMs`.
 * Revocations are also written to the `RevocationStore` (before the other
 * nodes are told), so nodes that miss the message or start later enforce
 * them too.
 */
export class UserOperations implements UserConnections {
  readonly #host: UserHost;
  readonly #calls: NodeCalls;
  readonly #revocations: RevocationCache;
  readonly #logger: Logger;
  readonly #waitMs: number;

  /** `waitMs`: longest wait for the other nodes' counts. */
  constructor(host: UserHost, calls: NodeCalls, revocations: RevocationCache, logger: Logger, waitMs: number) {
    this.#host = host;
    this.#calls = calls;
    this.#revocations = revocations;
    this.#logger = logger;
    this.#waitMs = waitMs;
    calls.serve(USER_OPS_CHANNEL, (body) => this.#receive(body as Partial<UserOp>));
  }

  /** The node's revocation cache (checked at connect and refresh). */
  get revocations(): RevocationCache {
    return this.#revocations;
  }

  /** Sends a `message` push to every connection of the user. */
  sendToUser(user: string, data: unknown): UserOpResult<number, ClusterCount> {
    const local = sendToUser(this.#host, user, data);
    return { local, cluster: this.#count(local, { op: 'message', user, data }) };
  }

  /** Closes every connection of the user. */
  disconnect(user: string, close: CloseCodeName, reason: string): UserOpResult<number, ClusterCount> {
    const local = this.#close(user, close, reason);
    return { local, cluster: this.#count(local, { op: 'disconnect', user, close, reason }) };
  }

  /** Refuses the user's tokens issued before `before` and closes the connections holding them. */
  revoke(
    user: string,
    before: number,
    reason: string,
  ): UserOpResult<{ before: number; disconnected: number }, ClusterCount> {
    const at = this.#revocations.apply(user, before);
    const disconnected = this.#closeRevoked(user, reason);
    const cluster = (async () => {
      let stored: number;
      try {
        stored = await this.#revocations.store.revoke(user, at);
      } finally {
        this.#revocations.settled(user);
      }
      if (stored > at) this.#revocations.apply(user, stored, true);
      return this.#count(disconnected, { op: 'revoke', user, before: stored, reason });
    })();
    return { local: { before: at, disconnected }, cluster };
  }

  /** Lifts the user's revocation; `local` says whether this node had one. */
  lift(user: string): UserOpResult<boolean> {
    const had = this.#revocations.remove(user);
    const cluster = (async () => {
      try {
        await this.#revocations.store.lift(user);
      } finally {
        this.#revocations.settled(user);
      }
      await this.#calls.send(USER_OPS_CHANNEL, { op: 'lift', user } satisfies UserOp);
    })();
    return { local: had, cluster };
  }

  /** This node's result at once; the rest of the cluster is reached in the background (a failure is logged). */
  localOf<T>(what: string, user: string, result: UserOpResult<T, unknown>): T {
    this.logFailure(what, user, result.cluster);
    return result.local;
  }

  /** Logs a failed cluster delivery (for callers that do not wait for it). */
  logFailure(what: string, user: string, cluster: Promise<unknown>): void {
    cluster.catch((err: unknown) => this.#logger.warn({ err, user }, `${what} did not reach every node`));
  }

  /** Sends `op` to the other nodes and adds their counts to this node's `local`. */
  async #count(local: number, op: UserOp): Promise<ClusterCount> {
    const { replies, nodes, partial } = await this.#calls.gather(USER_OPS_CHANNEL, op, {
      waitMs: this.#waitMs,
      parse: connectionCount,
    });
    let total = local;
    for (const n of replies.values()) total += n;
    return { total, nodes, partial };
  }

  #close(user: string, close: CloseCodeName, reason: string): number {
    const list = [...this.#host.sessionsOf(user)];
    for (const s of list) s.close(close, reason);
    return list.length;
  }

  #closeRevoked(user: string, reason: string): number {
    let n = 0;
    for (const s of [...this.#host.sessionsOf(user)]) {
      if (s.principal && this.#revocations.isRevoked(s.principal)) {
        s.close('REVOKED', reason);
        n++;
      }
    }
    return n;
  }

  /** Applies an operation of another node; returns the connections it reached here (none for a lift). */
  #receive(op: Partial<UserOp>): number | undefined {
    if (typeof op.user !== 'string') throw new TypeError('user operation without user');
    const user = op.user;
    switch (op.op) {
      case 'message':
        return sendToUser(this.#host, user, op.data);
      case 'disconnect': {
        const close = op.close !== undefined && op.close in CLOSE_CODES ? op.close : 'FORCE_DISCONNECT';
        return this.#close(user, close, String(op.reason ?? 'disconnected by server'));
      }
      case 'revoke':
        if (typeof op.before !== 'number') throw new TypeError('revoke without before');
        this.#revocations.apply(user, op.before, true);
        return this.#closeRevoked(user, String(op.reason ?? 'access revoked'));
      case 'lift':
        this.#revocations.remove(user, true);
        return undefined;
      default:
        throw new TypeError(`unknown user operation ${String(op.op)}`);
    }
  }
}
