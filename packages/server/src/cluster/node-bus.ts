import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';

/** Control channels carry no history: a node that misses a message catches up by other means. */
const NO_HISTORY = { size: 0, ttlMs: 60_000 } as const;

/** Receives the body of a control message sent by another node. */
export type NodeBusListener = (body: Readonly<Record<string, unknown>>, from: string) => void;

/**
 * Control messages between the nodes of a cluster (app version announces,
 * user operations), carried over broker channels whose names start with `$`
 * (no client can subscribe or publish to them).
 *
 * Contract:
 * - `send` resolves once the broker accepted the message for fan-out, and
 *   rejects (nothing sent) when it could not; it never retries.
 * - Listeners receive the messages of other nodes only (a node applies its
 *   own operations locally before sending them), in the order each node sent
 *   them on a channel, at most once. A node that was cut off from the broker
 *   may miss some: users of the bus must tolerate that (e.g. by re-reading a
 *   shared store).
 * - On a single node (`clustered: false`) `send` does nothing.
 */
export class NodeBus {
  readonly #broker: Broker;
  readonly #nodeId: string;
  readonly #logger: Logger;
  readonly #clustered: boolean;

  constructor(options: { broker: Broker; nodeId: string; logger: Logger; clustered: boolean }) {
    this.#broker = options.broker;
    this.#nodeId = options.nodeId;
    this.#logger = options.logger;
    this.#clustered = options.clustered;
  }

  /** True when other nodes may be listening (a broker was injected). */
  get clustered(): boolean {
    return this.#clustered;
  }

  /** Sends `body` (a JSON object; its `node` field is set to this node's id) to the other nodes. */
  async send(channel: string, body: Readonly<Record<string, unknown>>): Promise<void> {
    if (!this.#clustered) return;
    await this.#broker.publish({ channel, data: { ...body, node: this.#nodeId }, history: NO_HISTORY });
  }

  /**
   * Delivers the messages other nodes send on `channel` to `listener`.
   * Resolves once the broker confirmed the subscription, or failed it (the
   * failure is logged); it never rejects.
   */
  listen(channel: string, listener: NodeBusListener): Promise<void> {
    return this.#broker
      .subscribe(channel, (pub) => {
        const d = pub.data as Record<string, unknown> | null;
        if (!d || typeof d !== 'object' || typeof d.node !== 'string' || d.node === this.#nodeId) return;
        try {
          listener(d, d.node);
        } catch (err) {
          this.#logger.warn({ err, channel }, 'ignored a malformed control message');
        }
      })
      .catch((err: unknown) => this.#logger.warn({ err, channel }, 'cannot listen for control messages'));
  }
}
