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
  /** The nodes waited for that did not reply in time. */
  readonly missing: readonly string[];
}

/** How many nodes an answer covers (the calling node included). */
export interface NodesAnswered {
  /** Nodes whose reply is in the answer, the calling node included. */
  readonly answered: number;
  /** Nodes the call went to, the calling node included: those live when it was sent, plus any other that replied. */
  readonly expected: number;
}

/** The replies of a call that passed `parse`, and how many nodes the answer covers. */
export interface GatheredReplies<T> {
  /** The valid replies by node. */
  readonly replies: ReadonlyMap<string, T>;
  readonly nodes: NodesAnswered;
  /** True when `nodes.answered < nodes.expected`. */
  readonly partial: boolean;
  /** The nodes waited for whose valid reply is not in the answer. */
  readonly missing: readonly string[];
}

/** How to gather the replies of a call (`NodeCalls.gather`). */
export interface GatherOptions<T> {
  /** Longest wait for the replies. */
  readonly waitMs: number;
  /** Turns a reply into a `T`; undefined for a reply that is not valid (it does not count as answered). */
  readonly parse: (reply: unknown) => T | undefined;
  /** Stops waiting as soon as one valid reply satisfies it (an answer only one node can give). */
  readonly enough?: (reply: T) => boolean;
}

interface PendingCall {
  readonly expected: Set<string>;
  readonly replies: Map<string, unknown>;
  readonly enough: ((reply: unknown) => boolean) | undefined;
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

  /**
   * `call` with the replies checked by `options.parse`, counted with this
   * node: `nodes.answered` is 1 plus the valid replies, `nodes.expected` 1
   * plus the nodes waited for. With `options.enough` the wait ends at the
   * first valid reply that satisfies it.
   */
  async gather<T>(
    channel: string,
    body: Readonly<Record<string, unknown>>,
    options: GatherOptions<T>,
  ): Promise<GatheredReplies<T>> {
    const { enough, parse } = options;
    const stop =
      enough &&
      ((reply: unknown): boolean => {
        const parsed = parse(reply);
        return parsed !== undefined && enough(parsed);
      });
    const { replies, expected, missing } = await this.call(channel, body, options.waitMs, stop);
    const valid = new Map<string, T>();
    const invalid: string[] = [];
    for (const [node, reply] of replies) {
      const parsed = parse(reply);
      if (parsed !== undefined) valid.set(node, parsed);
      else invalid.push(node);
    }
    const nodes = { answered: valid.size + 1, expected: expected + 1 };
    return { replies: valid, nodes, partial: nodes.answered < nodes.expected, missing: [...missing, ...invalid] };
  }

  /**
   * Sends `body` to the other nodes on `channel` and gathers their replies
   * (see the class contract); `enough` ends the wait at a reply it accepts.
   */
  async call(
    channel: string,
    body: Readonly<Record<string, unknown>>,
    waitMs: number,
    enough?: (reply: unknown) => boolean,
  ): Promise<NodeCallReplies> {
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
      this.#pending.set(id, { expected, replies, enough, done });
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
    const missing = [...expected].filter((node) => !replies.has(node));
    return { replies, expected: expected.size, missing };
  }

  #reply(body: Readonly<Record<string, unknown>>, from: string): void {
    this.#registry.touch(from);
    const call = typeof body.call === 'number' ? this.#pending.get(body.call) : undefined;
    if (!call) return;
    call.replies.set(from, body.reply);
    call.expected.add(from);
    if (call.replies.size >= call.expected.size || call.enough?.(body.reply)) call.done();
  }
}
