import type { Logger } from 'pino';
import type { NodeBus } from './node-bus.js';
import type { NodeRegistry } from './node-registry.js';

/** Default longest wait for the other nodes' replies to a call. */
export const DEFAULT_CALL_WAIT_MS = 1_000;

/** Upper limit of the wait for replies (a caller such as an HTTP request is held that long). */
export const MAX_CALL_WAIT_MS = 10_000;

/** Node bus channel on which a node receives the replies to its calls. */
export function replyChannel(node: string): string {
  return `$syncline:reply:${node}`;
}

/** Serves one call: returns the reply (any JSON value). */
export type NodeCallHandler = (body: Readonly<Record<string, unknown>>, from: string) => unknown;

/** What came back from a call to the other nodes. */
export interface NodeCallReplies {
  /** The replies by node, of the nodes that answered in time. */
  readonly replies: ReadonlyMap<string, unknown>;
  /** The other nodes waited for: the live ones when the call was sent, plus any other that answered. */
  readonly expected: number;
}

interface PendingCall {
  readonly expected: Set<string>;
  readonly replies: Map<string, unknown>;
  readonly done: () => void;
}

/**
 * Calls to every other node of a cluster over the node bus: the call goes
 * out on a bus channel with an id, each node that serves the channel runs
 * its handler and sends the reply to the caller's reply channel, and the
 * caller gathers them.
 *
 * Contract: `call` rejects only when the call could not be sent; otherwise
 * it resolves once every node the `NodeRegistry` listed as live has replied,
 * or after `waitMs` at the latest, with what came back (a node that died or
 * is cut off just does not reply). A node whose handler throws does not reply
 * either (the failure is logged there). Calls without an id (from nodes of
 * an older version) are served without a reply.
 */
export class NodeCalls {
  readonly #bus: NodeBus;
  readonly #registry: NodeRegistry;
  readonly #logger: Logger;
  readonly #pending = new Map<number, PendingCall>();
  #nextId = 1;

  constructor(options: { bus: NodeBus; registry: NodeRegistry; nodeId: string; logger: Logger }) {
    this.#bus = options.bus;
    this.#registry = options.registry;
    this.#logger = options.logger;
    void this.#bus.listen(replyChannel(options.nodeId), (body, from) => this.#reply(body, from));
  }

  /** Serves the calls other nodes make on `channel` with `handler`. */
  serve(channel: string, handler: NodeCallHandler): void {
    void this.#bus.listen(channel, (body, from) => {
      const reply = handler(body, from);
      if (typeof body.call !== 'number') return;
      this.#bus
        .send(replyChannel(from), { call: body.call, reply: reply ?? null })
        .catch((err: unknown) => this.#logger.warn({ err, channel, to: from }, 'cannot reply to a node'));
    });
  }

  /** Sends `body` to the other nodes on `channel` without waiting for replies. */
  send(channel: string, body: Readonly<Record<string, unknown>>): Promise<void> {
    return this.#bus.send(channel, body);
  }

  /** Sends `body` to the other nodes on `channel` and gathers their replies (see the class contract). */
  async call(channel: string, body: Readonly<Record<string, unknown>>, waitMs: number): Promise<NodeCallReplies> {
    const id = this.#nextId++;
    const expected = new Set(this.#registry.live());
    const replies = new Map<string, unknown>();
    let timer: NodeJS.Timeout | undefined;
    const gathered = new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve();
      };
      this.#pending.set(id, { expected, replies, done });
      timer = setTimeout(done, waitMs);
    });
    try {
      await this.#bus.send(channel, { ...body, call: id });
    } catch (err) {
      this.#pending.get(id)?.done();
      throw err;
    }
    if (expected.size === 0) this.#pending.get(id)?.done();
    await gathered;
    return { replies, expected: expected.size };
  }

  #reply(body: Readonly<Record<string, unknown>>, from: string): void {
    this.#registry.touch(from);
    const call = typeof body.call === 'number' ? this.#pending.get(body.call) : undefined;
    if (!call) return;
    call.replies.set(from, body.reply);
    call.expected.add(from);
    if (call.replies.size >= call.expected.size) call.done();
  }
}
